"""Let numba cache log densities that call SciPy's special functions (digamma, Bessel, ...).

PyTensor compiles nutpie's log density with numba and caches the machine code on disk, so a
model compiled once loads in a later process instead of compiling again. Scalar operations
without a numba version of their own (``psi``, the digamma function in the gradient of every
``gammaln`` of a parameter: Student-t ``nu``, negative binomial ``alpha``, Beta ``kappa``; also
``i0``/``i1`` and others) call the compiled function from ``scipy.special.cython_special``. PyTensor
(2.38) passes that function to numba as a raw address, and numba refuses to cache code that
embeds an address, so the scalar operation, every fused operation that contains it and the whole
log density were compiled again in every process: seconds per fit even for a small Student-t
model, more for larger ones (measured in the performance appendix).

:func:`apply` keeps PyTensor's implementation and changes only how the SciPy function is
reached: its address is registered with LLVM under a fixed symbol name
(:func:`llvmlite.binding.add_symbol`) and the numba code calls it through
:class:`numba.types.ExternalFunction`, that is by name. Code that calls a function by name can be
cached; the name is bound to this process's address whenever PyTensor converts the operation,
which it does before numba loads any cached code that uses it. The same SciPy function runs, so
the numbers (and the draws of a seeded fit) are unchanged. No library offers this; it is written
by hand and applied once when :mod:`course_pkg` is imported.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import numpy as np
from llvmlite import binding as llvm
from numba.core import types
from numba.extending import typeof_impl
from pytensor.link.numba.dispatch import scalar as _pt_scalar
from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key
from pytensor.scalar.basic import ScalarOp

#: Prefix of the LLVM symbols this module registers (one per SciPy function and C signature).
SYMBOL_PREFIX = "course_pkg_scipy_"

_PYTENSOR_SCALAR_FUNCIFY = numba_funcify_and_cache_key.dispatch(ScalarOp)
_PYTENSOR_WRAP = _pt_scalar.wrap_cython_function


class NamedCythonFunction:
    """A SciPy Cython function that numba calls by symbol name instead of by address.

    Wraps PyTensor's ``_CythonWrapper`` (which chooses the fused-type specialisation and reads
    its C signature) and forwards the methods PyTensor's code generator asks it for. Creating
    one registers the function's address with LLVM under :attr:`symbol`.
    """

    def __init__(self, wrapper):
        self._wrapper = wrapper
        sig = wrapper._signature
        name = getattr(wrapper._pyfunc, "__name__", "") or "f"
        c_types = "_".join([sig.res_c_type, *sig.arg_c_types])
        self.symbol = SYMBOL_PREFIX + re.sub(r"\W+", "_", f"{name}_{c_types}")
        llvm.add_symbol(self.symbol, wrapper.__wrapper_address__())

    def signature(self):
        """The numba signature of the C function."""
        return self._wrapper.signature()

    def has_pyx_skip_dispatch(self) -> bool:
        """Whether the C function takes Cython's extra ``__pyx_skip_dispatch`` argument."""
        return self._wrapper.has_pyx_skip_dispatch()

    def numpy_arg_dtypes(self):
        """NumPy dtypes of the C function's arguments."""
        return self._wrapper.numpy_arg_dtypes()

    def numpy_output_dtype(self):
        """NumPy dtype of the C function's result."""
        return self._wrapper.numpy_output_dtype()


@typeof_impl.register(NamedCythonFunction)
def _typeof_named(value, context):
    return types.ExternalFunction(value.symbol, value.signature())


@contextmanager
def _named_wrappers(created: list):
    """Inside the block, PyTensor wraps SciPy functions as :class:`NamedCythonFunction`."""

    def wrap(cython_func, output_dtype, input_dtypes):
        named = NamedCythonFunction(_PYTENSOR_WRAP(cython_func, output_dtype, input_dtypes))
        created.append(named)
        return named

    _pt_scalar.wrap_cython_function = wrap
    try:
        yield
    finally:
        _pt_scalar.wrap_cython_function = _PYTENSOR_WRAP


def funcify_scalar_op(op, node, **kwargs):
    """PyTensor's numba conversion of a scalar operation, cacheable when it calls SciPy.

    Returns ``(numba function, cache key)`` like PyTensor's own
    ``numba_funcify_and_cache_key``. For operations that call a SciPy Cython function the key,
    which PyTensor leaves as ``None`` (not cacheable), names the symbols the code calls.
    """
    created: list[NamedCythonFunction] = []
    with _named_wrappers(created):
        func, key = _PYTENSOR_SCALAR_FUNCIFY(op, node, **kwargs)
    if key is None and created:
        key = _pt_scalar.scalar_op_cache_key(
            op,
            course_pkg_symbols=tuple(f.symbol for f in created),
            dtypes=tuple(str(np.dtype(v.type.dtype)) for v in (*node.inputs, *node.outputs)),
        )
    return func, key


def apply() -> None:
    """Register :func:`funcify_scalar_op` for PyTensor's scalar operations (idempotent)."""
    numba_funcify_and_cache_key.register(ScalarOp)(funcify_scalar_op)
