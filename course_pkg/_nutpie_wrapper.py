"""Compile nutpie's C wrapper around a cached log density without re-optimising the density.

nutpie hands its Rust sampler a C function (a ``numba.cfunc``) that unpacks the parameter vector,
calls PyTensor's numba function for the log density and its gradient, and copies the results
out. PyTensor loads that inner function from its on-disk cache, but numba compiles a call from
one jitted function to another by linking the callee's LLVM code into the caller: compiling the
small wrapper therefore optimised and generated machine code for the whole log density again, in
every process, cache or not (1.2 to 1.8 s per fit for small Bambi models like the catalogue's,
about 9 s for chapter 5's m1; measured in the performance appendix).

:func:`call_without_linking` returns a stand-in for a compiled numba function that calls its
already compiled machine code through the function's address, with numba's own calling
convention (arguments, return value, error status), so nothing is linked or re-optimised.
The wrapper's copies of the gradient and of the expanded draws are loops here: nutpie's
``out[...] = grad`` made numba compile its shape-mismatch error message (an f-string) in every
process (chapter 5's m1, warm caches: both wrappers 9.4 s with nutpie's copies, 7.5 s with
loops). :func:`apply` makes nutpie's wrapper use both. The machine code of the density is the
same, so the numbers (and a seeded fit's draws) do not change. Neither nutpie (0.16) nor numba offers this;
it is written by hand and applied once when :mod:`course_pkg` is imported.
"""

from __future__ import annotations

import inspect

import numba
import numpy as np
import nutpie.compile_pymc as _nutpie_compile
from llvmlite import ir
from numba.core import cgutils
from numba.core.dispatcher import Dispatcher
from numba.extending import intrinsic

_NUTPIE_MAKE_EXTRACTION_FN = _nutpie_compile.make_extraction_fn


def call_without_linking(dispatcher: Dispatcher, n_args: int):
    """A numba intrinsic that calls *dispatcher*'s compiled code through its address.

    Use it inside jitted code in place of the dispatcher, with *n_args* positional arguments.
    The dispatcher is compiled for the argument types on first use (or its cached code is
    loaded), and the caller gets a call through a constant pointer instead of a copy of the
    callee's code.

    Parameters
    ----------
    dispatcher : numba.core.dispatcher.Dispatcher
        A function decorated with ``numba.njit``; positional parameters and ``*args`` only.
    n_args : int
        Number of arguments of every call (numba's intrinsics have a fixed arity).

    Raises
    ------
    TypeError
        If *dispatcher* is not a numba-compiled function or takes keyword-only arguments, or
        *n_args* is not a positive int.
    """
    if not isinstance(dispatcher, Dispatcher):
        raise TypeError(
            f"dispatcher must be a numba-compiled function (numba.njit), got {type(dispatcher)!r}"
        )
    if not isinstance(n_args, int) or isinstance(n_args, bool) or n_args < 1:
        raise TypeError(f"n_args must be a positive int, got {n_args!r}")
    params = inspect.signature(dispatcher.py_func).parameters.values()
    if any(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in params):
        raise TypeError("dispatcher must take positional arguments only")
    n_fixed = sum(p.kind != p.VAR_POSITIONAL for p in params)
    has_varargs = any(p.kind == p.VAR_POSITIONAL for p in params)

    def typer(typingctx, *argtys):
        # numba folds the arguments of a function with *args into a tuple, as for a direct call
        _, folded = dispatcher._compiler.fold_argument_types(argtys, {})
        folded = tuple(folded)
        dispatcher.compile(folded)
        cres = dispatcher.overloads[folded]
        restype = cres.signature.return_type

        def codegen(context, builder, signature, args):
            fnty = context.call_conv.get_function_type(restype, folded)
            address = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
            callee = builder.inttoptr(ir.Constant(ir.IntType(64), address), fnty.as_pointer())
            packed = list(args[:n_fixed])
            if has_varargs:
                packed.append(context.make_tuple(builder, folded[-1], args[n_fixed:]))
            status, result = context.call_conv.call_function(
                builder, callee, restype, folded, packed
            )
            with cgutils.if_unlikely(builder, status.is_error):
                context.call_conv.return_status_propagate(builder, status)
            return result

        return restype(*argtys), codegen

    names = ", ".join(f"a{i}" for i in range(n_args))
    namespace: dict = {}
    # numba's intrinsics take no *args: build one with exactly n_args parameters.
    exec(  # noqa: S102 - a fixed template; only the number of arguments varies
        f"def call(typingctx, {names}):\n    return typer(typingctx, {names})\n",
        {"typer": typer},
        namespace,
    )
    call = intrinsic(namespace["call"])
    call.dispatcher = dispatcher  # keeps the compiled code alive as long as callers exist
    return call


def _make_extraction_fn(inner, shared_data, shared_vars, record_dtype):
    """nutpie's ``make_extraction_fn`` with *inner* called through its address."""
    # nutpie calls inner(x, *shared): the parameter vector, then one array per shared variable
    call = call_without_linking(inner, 1 + len(shared_vars))
    return _NUTPIE_MAKE_EXTRACTION_FN(call, shared_data, shared_vars, record_dtype)


def _make_c_logp_func(n_dim, logp_fn, user_data, shared_logp, shared_data):
    """nutpie's C log density wrapper, with the gradient copied by a loop.

    Same signature, return codes and results as ``nutpie.compile_pymc._make_c_logp_func``
    (0.16): -1 wrong dimension, 1 error in the density (here also a gradient of the wrong
    length), 3 non-finite gradient, 4 non-finite log density.
    """
    extract = _make_extraction_fn(logp_fn, shared_data, shared_logp, user_data.dtype)
    c_sig = numba.types.int64(
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )

    def logp_numba(dim, x_, out_, logp_, user_data_):
        if dim != n_dim:
            return -1
        try:
            x = numba.carray(x_, (n_dim,))
            out = numba.carray(out_, (n_dim,))
            logp = numba.carray(logp_, ())
            logp_val, grad = extract(x, user_data_)
            logp[()] = logp_val
            if grad.shape[0] != n_dim:
                return 1
            for i in range(n_dim):
                out[i] = grad[i]
            if not np.all(np.isfinite(out)):
                return 3
            if not np.isfinite(logp_val):
                return 4
        except Exception:  # noqa: BLE001 - nutpie's status code for any error in the density
            return 1
        return 0

    return logp_numba, c_sig


def _make_c_expand_func(n_dim, n_expanded, expand_fn, user_data, shared_vars, shared_data):
    """nutpie's C wrapper for the stored draws, with the values copied by a loop.

    Same signature, return codes and results as ``nutpie.compile_pymc._make_c_expand_func``
    (0.16): -1 wrong dimensions, -2 error (here also values of the wrong length).
    """
    extract = _make_extraction_fn(expand_fn, shared_data, shared_vars, user_data.dtype)
    c_sig = numba.types.int64(
        numba.types.uint64,
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )

    def expand_numba(dim, expanded, x_, out_, user_data_):
        if dim != n_dim:
            return -1
        if expanded != n_expanded:
            return -1
        try:
            x = numba.carray(x_, (n_dim,))
            out = numba.carray(out_, (n_expanded,))
            (values,) = extract(x, user_data_)
            if values.shape[0] != n_expanded:
                return -2
            for i in range(n_expanded):
                out[i] = values[i]
        except Exception:  # noqa: BLE001 - nutpie's status code for any error
            return -2
        return 0

    return expand_numba, c_sig


def apply() -> None:
    """Make nutpie's wrappers call the log density without linking it and copy by loops.

    Idempotent.
    """
    _nutpie_compile.make_extraction_fn = _make_extraction_fn
    _nutpie_compile._make_c_logp_func = _make_c_logp_func
    _nutpie_compile._make_c_expand_func = _make_c_expand_func
