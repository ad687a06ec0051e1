"""Compile nutpie's C wrappers around a cached log density once, and load them afterwards.

nutpie hands its Rust sampler two C functions (``numba.cfunc``): one unpacks the parameter
vector, calls PyTensor's numba function for the log density and its gradient and copies the
results out; the other does the same for the values stored with each draw. PyTensor loads the
inner functions from its on-disk cache, but nutpie compiled the two wrappers anew in every
process, and three things made that slow:

- numba compiles a call from one jitted function to another by linking the callee's LLVM code
  into the caller, so compiling the small wrapper optimised and generated machine code for the
  whole log density again (1.2 to 1.8 s per fit for the catalogue's small Bambi models, about
  9 s for chapter 5's m1). :func:`call_without_linking` calls the already compiled machine code
  instead, with numba's own calling convention (arguments, return value, error status).
- ``out[...] = grad`` made numba compile its shape-mismatch error message (an f-string) in every
  process; the copies here are loops.
- Even so, typing and compiling the wrappers took 2 to 3.5 s per fit (7.5 s for m1), because
  nutpie does not ask numba to cache them. Here they are cached: their source is compiled under
  a key made from PyTensor's key of the density (:func:`_wrapper_key`) with PyTensor's cache
  locator, the density is called through an LLVM symbol named from that key rather than through
  an address (which would change from process to process), and every process registers that
  symbol (:func:`_register`) before numba loads a cached wrapper. A density that PyTensor does not
  cache is called through its address, which numba is told about, so such a wrapper is never
  saved. Warm, a cached wrapper loads in about 0.01 s.

The machine code of the density is the same, so the numbers (and a seeded fit's draws) do not
change. Neither nutpie (0.16.11) nor numba offers this; it is written by hand and applied once when
:mod:`course_pkg` is imported (:func:`apply`).
"""

from __future__ import annotations

import functools
import hashlib
import inspect

import numba
import numpy as np
import nutpie
import nutpie.compile_pymc as _nutpie_compile
from llvmlite import binding as llvm
from numba.core import cgutils, types
from numba.core.dispatcher import Dispatcher
from numba.extending import intrinsic
from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS, compile_numba_function_src

_NUTPIE_MAKE_EXTRACTION_FN = _nutpie_compile.make_extraction_fn
_NUTPIE_COMPILE_PYMC_MODEL = nutpie.compile_pymc_model

#: Changes whenever the wrappers' source or calling scheme changes: old cache entries are unused.
_WRAPPER_VERSION = "course_pkg-nutpie-wrapper-3"

#: Callees registered under an LLVM symbol name in this process, kept alive with their code.
_REGISTERED: dict[str, Dispatcher] = {}

#: Calls that were given a symbol key but other argument types (so went by address instead).
FALLBACKS: list[str] = []


def _symbol_name(key: str, argtypes: tuple) -> str:
    """The LLVM symbol a callee with cache key *key*, compiled for *argtypes*, is called by."""
    digest = hashlib.sha256(repr((key, tuple(map(str, argtypes)))).encode()).hexdigest()
    return f"course_pkg_nutpie_callee_{digest[:40]}"


def _register(dispatcher: Dispatcher, key: str, argtypes: tuple) -> str:
    """Compile (or load) *dispatcher* for a call with *argtypes*; name its code for LLVM."""
    # numba folds the arguments of a function with *args into a tuple, as for a direct call
    _, folded = dispatcher._compiler.fold_argument_types(tuple(argtypes), {})
    folded = tuple(folded)
    dispatcher.compile(folded)
    cres = dispatcher.overloads[folded]
    name = _symbol_name(key, tuple(argtypes))
    llvm.add_symbol(name, cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name))
    _REGISTERED[name] = dispatcher
    return name


def call_without_linking(dispatcher: Dispatcher, n_args: int, symbol_key: str | None = None,
                         argtypes: tuple | None = None):
    """A numba intrinsic that calls *dispatcher*'s compiled code without linking it in.

    Use it inside jitted code in place of the dispatcher, with *n_args* positional arguments.
    The dispatcher is compiled for the argument types on first use (or its cached code is
    loaded), and the caller calls that machine code instead of a copy of the callee's code.

    By default the call goes through the code's address, which numba is told about, so a caller
    is never cached (the address changes from process to process). With *symbol_key* (a string
    that identifies the callee's code across processes, such as PyTensor's cache key) and
    *argtypes* (the numba types of the call's arguments), the call goes through an LLVM symbol
    named from both, so a caller can be cached; every process must then call :func:`_register`
    with the same key and types before it loads such a caller. A call with other types than
    *argtypes* falls back to the address.

    Parameters
    ----------
    dispatcher : numba.core.dispatcher.Dispatcher
        A function decorated with ``numba.njit``; positional parameters and ``*args`` only.
    n_args : int
        Number of arguments of every call (numba's intrinsics have a fixed arity).
    symbol_key : str, optional
        Identity of the callee's code, for calls by symbol name.
    argtypes : tuple of numba types, optional
        The argument types of the call (before numba folds ``*args``) the symbol is registered
        for; required with *symbol_key*.

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
    if symbol_key is not None and not isinstance(argtypes, tuple):
        raise TypeError(f"argtypes must be a tuple of numba types when symbol_key is given, "
                        f"got {argtypes!r}")
    params = inspect.signature(dispatcher.py_func).parameters.values()
    if any(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in params):
        raise TypeError("dispatcher must take positional arguments only")
    n_fixed = sum(p.kind != p.VAR_POSITIONAL for p in params)
    name_of_callee = f"callee {dispatcher.py_func.__qualname__}"
    has_varargs = any(p.kind == p.VAR_POSITIONAL for p in params)

    def typer(typingctx, *argtys):
        # numba folds the arguments of a function with *args into a tuple, as for a direct call
        _, folded = dispatcher._compiler.fold_argument_types(argtys, {})
        folded = tuple(folded)
        dispatcher.compile(folded)
        cres = dispatcher.overloads[folded]
        restype = cres.signature.return_type

        by_symbol = symbol_key is not None and tuple(argtys) == tuple(argtypes)
        if symbol_key is not None and not by_symbol:
            FALLBACKS.append(f"{name_of_callee}: {argtys} != {tuple(argtypes)}")

        def codegen(context, builder, signature, args):
            fnty = context.call_conv.get_function_type(restype, folded)
            if by_symbol:
                name = _register(dispatcher, symbol_key, argtys)
                callee = cgutils.get_or_insert_function(builder.module, fnty, name)
            else:
                address = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
                # add_dynamic_addr tells numba that the code embeds an address: never cached
                pointer = context.add_dynamic_addr(builder, address, info=name_of_callee)
                callee = builder.bitcast(pointer, fnty.as_pointer())
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


def _argtypes(shared_data, shared_vars) -> tuple:
    """The numba types nutpie's extraction function passes to the density: x, then the data.

    The data arrays keep the types of nutpie's (read-only) copies, which its extraction function
    uses as the types of the arrays it rebuilds from the user data.
    """
    data = [numba.typeof(shared_data[name]) for name in shared_vars]
    return (types.Array(types.float64, 1, "C"), *data)


def _wrapper_key(kind, inner, shared_data, shared_vars, record_dtype, sizes) -> str | None:
    """A cache key for one of nutpie's C wrappers, or None when the density has none.

    It names everything the wrapper's machine code depends on: PyTensor's key of the density
    (the same key means the same code), the data's positions, types and number of dimensions, the
    layout of nutpie's user data, the vector sizes and the library versions. nutpie (0.16.11)
    names each shared array by a random ``uuid4`` string, in the record's fields too; the code
    reaches them by position and offset, so the key uses each array's position among the model's
    shared data instead of its name (with the names, no process found another's wrappers).
    """
    py_func = getattr(inner, "py_func", None)
    inner_key = CACHED_SRC_FUNCTIONS.get(py_func) if py_func is not None else None
    if inner_key is None:
        return None
    position = {name: f"shared{i}" for i, name in enumerate(shared_data)}
    data = [(position[name], shared_data[name].dtype.str, shared_data[name].ndim)
            for name in shared_vars]
    layout = str(record_dtype.descr)
    for name, label in position.items():
        layout = layout.replace(name, label)
    parts = (_WRAPPER_VERSION, kind, inner_key, data, layout, sizes,
             numba.__version__, nutpie.__version__)
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _make_extraction_fn(inner, shared_data, shared_vars, record_dtype, key=None):
    """nutpie's ``make_extraction_fn`` with *inner* called without linking.

    With *key* (see :func:`_wrapper_key`) the call goes by symbol name and the density is
    registered under it now, so that a cached wrapper finds it when it is loaded.
    """
    # nutpie calls inner(x, *shared): the parameter vector, then one array per shared variable
    argtypes = _argtypes(shared_data, shared_vars)
    if key is not None:
        _register(inner, key, argtypes)
    call = call_without_linking(inner, 1 + len(shared_vars), symbol_key=key, argtypes=argtypes)
    return _NUTPIE_MAKE_EXTRACTION_FN(call, shared_data, shared_vars, record_dtype)


_LOGP_SRC = """
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
    except Exception:
        return 1
    return 0
"""

_EXPAND_SRC = """
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
    except Exception:
        return -2
    return 0
"""


def _wrapper_function(src, name, extract, key, **sizes):
    """Compile a wrapper's Python source with PyTensor's cache locator under *key*.

    Without a key (a density PyTensor does not cache) the key is unique to this call: numba
    finds no entry, and saves none because the code embeds the density's address.
    """
    # __name__: numba rebuilds a cached function's environment from the module it names
    env = {"__name__": __name__, "extract": extract, "numba": numba, "np": np, **sizes}
    return compile_numba_function_src(src, name, global_env=env,
                                      cache_key=key or f"uncached-{id(extract)}-{name}")


def _make_c_logp_func(n_dim, logp_fn, user_data, shared_logp, shared_data):
    """nutpie's C log density wrapper: cacheable, with the gradient copied by a loop.

    Same signature, return codes and results as ``nutpie.compile_pymc._make_c_logp_func``
    (0.16): -1 wrong dimension, 1 error in the density (here also a gradient of the wrong
    length), 3 non-finite gradient, 4 non-finite log density.
    """
    key = _wrapper_key("logp", logp_fn, shared_data, shared_logp, user_data.dtype, (n_dim,))
    extract = _make_extraction_fn(logp_fn, shared_data, shared_logp, user_data.dtype, key)
    c_sig = numba.types.int64(
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )
    return _wrapper_function(_LOGP_SRC, "logp_numba", extract, key, n_dim=n_dim), c_sig


def _make_c_expand_func(n_dim, n_expanded, expand_fn, user_data, shared_vars, shared_data):
    """nutpie's C wrapper for the stored draws: cacheable, with the values copied by a loop.

    Same signature, return codes and results as ``nutpie.compile_pymc._make_c_expand_func``
    (0.16): -1 wrong dimensions, -2 error (here also values of the wrong length).
    """
    key = _wrapper_key("expand", expand_fn, shared_data, shared_vars, user_data.dtype,
                       (n_dim, n_expanded))
    extract = _make_extraction_fn(expand_fn, shared_data, shared_vars, user_data.dtype, key)
    c_sig = numba.types.int64(
        numba.types.uint64,
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )
    func = _wrapper_function(_EXPAND_SRC, "expand_numba", extract, key, n_dim=n_dim,
                             n_expanded=n_expanded)
    return func, c_sig


@functools.wraps(_NUTPIE_COMPILE_PYMC_MODEL)
def _compile_pymc_model(model, *args, **kwargs):
    """nutpie's ``compile_pymc_model``, asking numba to cache the C wrappers (numba backend)."""
    if kwargs.get("backend", "numba") == "numba":
        kwargs.setdefault("cache", True)
    return _NUTPIE_COMPILE_PYMC_MODEL(model, *args, **kwargs)


def apply() -> None:
    """Make nutpie's wrappers cacheable, call the density without linking it, copy by loops.

    Idempotent.
    """
    _nutpie_compile.make_extraction_fn = _make_extraction_fn
    _nutpie_compile._make_c_logp_func = _make_c_logp_func
    _nutpie_compile._make_c_expand_func = _make_c_expand_func
    nutpie.compile_pymc_model = _compile_pymc_model
