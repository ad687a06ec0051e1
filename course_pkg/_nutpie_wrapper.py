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
:func:`apply` makes nutpie's wrapper use it. The machine code that runs is the same, so the
numbers (and a seeded fit's draws) do not change. Neither nutpie (0.16) nor numba offers this;
it is written by hand and applied once when :mod:`course_pkg` is imported.
"""

from __future__ import annotations

import inspect

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


def apply() -> None:
    """Make nutpie's wrapper call the log density without linking it (idempotent)."""
    _nutpie_compile.make_extraction_fn = _make_extraction_fn
