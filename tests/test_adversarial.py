"""Adversarial harness (issue 7): every public ``impl`` callable, fed one bad argument at a time.

What it checks. The harness discovers every public callable of every ``impl``
module (``impl.testing``, the conformance kit with its own tests, and
``impl.cli`` are skipped; so are names starting with ``_``), and FAILS if one
has no entry in its family's case file. For each entry it makes one valid call,
then perturbs one argument at a time with the bad-input classes of issue 7 and
requires, for each perturbed call:

* a ``ValueError`` or ``TypeError`` whose message names the perturbed argument
  (as a whole word: ``inputs``, ``hidden_size``), or
* a documented non-error result (declared in the case file, see
  ``DOCUMENTED`` below) that satisfies its predicate, or, for the perturbations
  that must be ACCEPTED (NumPy scalar types where a Python scalar is taken,
  read-only and non-contiguous arrays), the same result as the reference call;

and never another exception, a NaN (or an inf where the valid call had none)
in the output, a call running past ``TIME_LIMIT_S`` (``signal.setitimer``; a
pytest-xdist worker is a process with its own main thread, so this works
there too), a peak of traced allocations above ``MEMORY_LIMIT_BYTES``
(``tracemalloc``, which NumPy reports its array buffers to), or a write to any
input array (every input array is compared with a copy after the call). It
also checks that every parameter container among the arguments (and every
container a constructor returns) holds only read-only arrays (issue 7, class 1).

Case files. ``tests/adversarial_cases_<family>.py`` for the families of
``FAMILY_OF_MODULE`` (``attention``: helper A; ``hopfield``: helper B1;
``memory``: helper B2; ``backward``: the VJP modules, and ``blocked``: the
blocked SDPA, helper H) define

* ``VALID_CALLS: dict[str, Callable[[], dict[str, object]]]``, keyed by the
  qualified name of a public callable; the factory returns the arguments of
  ONE valid call by parameter name, freshly built on every call (new arrays,
  a new seeded ``numpy.random.Generator``). Keys:

  - ``"impl.attention.soft_attention"`` — a function;
  - ``"impl.scores.AdditiveScoreParameters"`` — a class: its constructor;
  - ``"impl.scores.AdditiveScoreParameters.initialize"`` — a classmethod or
    staticmethod, called on the class;
  - ``"impl.recurrent.GateParameters.affine"`` — an instance method: the
    factory also returns ``"self"`` (the instance), which is not perturbed;
    the method is called on it with the other arguments. Properties are
    attributes, not callables, and are not covered.

* ``DOCUMENTED: dict[tuple[str, str, str], Callable[[object], bool]]``
  (optional): ``(callable key, argument name, perturbation label)`` → a
  predicate the call's result must satisfy; the argument and the label may
  be ``fnmatch`` patterns (``"*"``, ``"empty_axis*"``). Use it only for results the callable's
  docstring documents (an empty sequence's log-probability 0, a size 0 that
  is allowed).
* ``OUTPUT_RECORDS: dict[str, str]`` (optional): public classes that impl only
  returns (result records), with the reason; the harness checks that no
  public callable takes one as an argument, and does not perturb them.

Perturbation labels (see ``_perturbations``): float arrays ``nan``,
``posinf``, ``neginf``, ``huge`` (±max of the dtype), ``large`` (max^0.6:
finite, but products overflow), ``empty_axis<i>``, ``other_float``,
``float16``, ``int``, ``complex``, ``bool``, ``object``, ``list``, ``0d``,
``none``, ``readonly``/``noncontiguous`` (accepted); integer arrays add
``float``, ``huge``, ``below``; bool arrays (masks) ``as_float32``,
``as_float64``, ``as_int``, ``broadcast_up``; Python ints ``huge``
(10¹²), ``overflow`` (2⁶⁴), ``negative``, ``zero``, ``float``, ``str``,
``bool``, ``np_int64``/``np_int32`` (accepted); Python floats ``nan``,
``posinf``, ``neginf``, ``f32_overflow`` (1e39), ``max``, ``tiny``
(1e-320), ``negative``, ``zero``, ``str``, ``bool``,
``np_float64``/``np_float32`` (accepted); dtype arguments (NumPy scalar
types) ``int_dtype``, ``float16``; bools ``int``, ``str``,
``np_bool`` (accepted); generators ``int_seed``, ``random_state``;
user callables ``not_callable``, ``returns_nan``, ``returns_posinf``,
``returns_wrong_shape``, ``returns_other_dtype``, ``returns_list``;
parameter containers ``wrong_type``; tuples ``list``, ``short`` and each
array element's perturbations as ``[i].<label>``. ``none`` is skipped for a
parameter whose default is ``None``.

Running time. By default each callable runs a deterministic sample of
``DEFAULT_SAMPLE`` perturbations (chosen by a CRC of the case's name, so the
same ones every run; the sample always includes the valid call). Set
``ADVERSARIAL_ALL=1`` or ``HYPOTHESIS_PROFILE=thorough`` to run every case.
"""

import dataclasses
import fnmatch
import importlib
import inspect
import math
import os
import pkgutil
import re
import signal
import sys
import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from types import FrameType, ModuleType
from typing import Any, NamedTuple

import numpy as np
import pytest

import impl
from tests._introspection import is_mutation_artifact

FAMILY_OF_MODULE: dict[str, str] = {
    "softmax": "attention",
    "scores": "attention",
    "attention": "attention",
    "multihead": "attention",
    "structured_attention": "attention",
    "hierarchical_attention": "attention",
    "pointer_network": "attention",
    "recurrent": "attention",
    "attention_backward": "backward",
    "recurrent_backward": "backward",
    "blocked_attention": "blocked",
    "hopfield": "hopfield",
    "continuous_hopfield": "hopfield",
    "modern_hopfield": "hopfield",
    "bidirectional_memory": "hopfield",
    "hopfield_capacity": "hopfield",
    "memory_network": "memory",
    "neural_turing_machine": "memory",
    "neural_stack": "memory",
    "set_memory": "memory",
    "tree_memory": "memory",
}
"""Which case file covers which module; a new module must be added (the discovery test fails)."""

SKIPPED_MODULES = frozenset({"testing", "cli"})
"""``impl.testing`` (the conformance kit, tested by its own tests) and the CLI."""

PENDING_FAMILIES: frozenset[str] = frozenset()
"""Families whose case files are still being written: reported as xfail (strict=False).

B1 removes "hopfield" and B2 removes "memory" from this set once their case
files cover every callable and pass.
"""

TIME_LIMIT_S = 10.0
"""Wall-clock limit per call. The valid calls take milliseconds; a perturbed call that runs
10 s on this shared machine is looping for minutes on a bigger input (a hang)."""

MEMORY_LIMIT_BYTES = 256 * 2**20
"""Peak traced allocation per call. The factories' arrays are a few kilobytes, so 256 MiB
means a size argument was taken at face value (e.g. 10¹² steps)."""

DEFAULT_SAMPLE = 30
"""Perturbations per callable in the default run (the whole set under ADVERSARIAL_ALL=1)."""

RUN_ALL = os.environ.get("ADVERSARIAL_ALL", "") not in ("", "0") or (
    os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
)

ACCEPT_RTOL = 1e3
"""Accepted perturbations (non-contiguous layout) may change the order in which BLAS sums
products: for the factories' sums of at most ~100 terms the results differ by at most
2γ_100 ≈ 200·u times the sum of |terms|; 1e3·eps of the dtype, relative to the largest
|entry| of the reference result, covers that with a safety factor 5."""


class Case(NamedTuple):
    """One perturbed call: the argument, a label, the new value, and what must happen."""

    argument: str
    label: str
    value: object
    accept: bool  # True: must succeed and equal the reference call
    reference: object  # the value the reference call uses (for accepted cases)


class _Timeout(BaseException):
    """Raised by the interval timer; a BaseException so that no ``except Exception`` eats it."""


# --------------------------------------------------------------------------- discovery


def _impl_modules() -> Iterator[ModuleType]:
    for info in sorted(pkgutil.iter_modules(impl.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in SKIPPED_MODULES:
            continue
        yield importlib.import_module(f"impl.{info.name}")


def public_callables() -> dict[str, object]:
    """Qualified name → callable, for every public function, class, and class's public method."""
    found: dict[str, object] = {}
    for module in _impl_modules():
        for name, obj in vars(module).items():
            if name.startswith("_") or is_mutation_artifact(name):
                continue
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                found[f"{module.__name__}.{name}"] = obj
            elif inspect.isclass(obj):
                found[f"{module.__name__}.{name}"] = obj
                for attr, member in vars(obj).items():
                    if attr.startswith("_") or is_mutation_artifact(attr):
                        continue
                    if isinstance(member, classmethod | staticmethod) or inspect.isfunction(member):
                        found[f"{module.__name__}.{name}.{attr}"] = getattr(obj, attr)
    return found


def _family(key: str) -> str:
    return FAMILY_OF_MODULE.get(key.split(".")[1], "?")


def _load_cases(family: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"tests.adversarial_cases_{family}")
    except ModuleNotFoundError as error:
        if error.name != f"tests.adversarial_cases_{family}":
            raise
        return None


FAMILIES = sorted(set(FAMILY_OF_MODULE.values()))
CASES = {family: _load_cases(family) for family in FAMILIES}


def _valid_calls(family: str) -> dict[str, Callable[[], dict[str, object]]]:
    module = CASES[family]
    calls: dict[str, Callable[[], dict[str, object]]] = getattr(module, "VALID_CALLS", {})
    return calls


def _output_records(family: str) -> dict[str, str]:
    records: dict[str, str] = getattr(CASES[family], "OUTPUT_RECORDS", {})
    return records


def _documented(family: str) -> dict[tuple[str, str, str], Callable[[object], bool]]:
    documented: dict[tuple[str, str, str], Callable[[object], bool]] = getattr(
        CASES[family], "DOCUMENTED", {}
    )
    return documented


def _marks(family: str) -> list[pytest.MarkDecorator]:
    if family in PENDING_FAMILIES:
        # B1 (hopfield) / B2 (memory): remove the family from PENDING_FAMILIES when done.
        return [pytest.mark.xfail(strict=False, reason=f"{family} cases being written (issue 7)")]
    return []


# --------------------------------------------------------------------------- perturbations


def _other_float(dtype: np.dtype[Any]) -> type[np.floating[Any]]:
    return np.float32 if dtype == np.float64 else np.float64


def _float_array_cases(x: np.ndarray[Any, Any]) -> Iterator[tuple[str, object, bool]]:
    dtype = x.dtype
    info = np.finfo(dtype)
    if x.size:
        for label, value in (("nan", np.nan), ("posinf", np.inf), ("neginf", -np.inf)):
            bad = x.copy()
            bad.flat[x.size // 2] = value
            yield label, bad, False
        signs = np.where(np.arange(x.size) % 2 == 0, 1, -1).reshape(x.shape)
        yield "huge", (signs * info.max).astype(dtype), False
        yield "large", np.full(x.shape, float(info.max) ** 0.6, dtype=dtype), False
    for axis in range(x.ndim):
        if x.shape[axis]:
            shape = list(x.shape)
            shape[axis] = 0
            yield f"empty_axis{axis}", np.zeros(shape, dtype=dtype), False
    yield "other_float", x.astype(_other_float(dtype)), False
    yield "float16", x.astype(np.float16), False
    yield "int", np.round(x).astype(np.int64), False
    yield "complex", x.astype(np.complex128), False
    yield "bool", x != 0, False
    yield "object", x.astype(object), False
    yield "list", x.tolist(), False
    if x.ndim:
        yield "0d", np.asarray(x.flat[0]) if x.size else np.zeros((), dtype=dtype), False
    yield from _layout_cases(x)


def _layout_cases(x: np.ndarray[Any, Any]) -> Iterator[tuple[str, object, bool]]:
    readonly = x.copy()
    readonly.setflags(write=False)
    yield "readonly", readonly, True
    if x.ndim:
        doubled = np.repeat(x, 2, axis=-1)
        yield "noncontiguous", doubled[..., ::2], True


def _int_array_cases(x: np.ndarray[Any, Any]) -> Iterator[tuple[str, object, bool]]:
    yield "float", x.astype(np.float64), False
    if x.size:
        yield "huge", np.full(x.shape, np.iinfo(np.int64).max, dtype=np.int64), False
        yield "below", np.full(x.shape, -2, dtype=x.dtype), False
    yield "bool", x != 0, False
    yield "list", x.tolist(), False
    if x.ndim:
        yield "0d", np.asarray(x.flat[0] if x.size else 0, dtype=x.dtype), False
    yield from _layout_cases(x)


def _bool_array_cases(x: np.ndarray[Any, Any]) -> Iterator[tuple[str, object, bool]]:
    yield "as_float32", x.astype(np.float32), False
    yield "as_float64", x.astype(np.float64), False
    yield "as_int", x.astype(np.int64), False
    yield "broadcast_up", np.stack([x, x]), False
    yield "list", x.tolist(), False
    if x.ndim:
        yield "0d", np.asarray(True), False
    for axis in range(x.ndim):
        if x.shape[axis] > 1:
            shape = list(x.shape)
            shape[axis] = 0
            yield f"empty_axis{axis}", np.zeros(shape, dtype=np.bool_), False
    yield from _layout_cases(x)


def _int_cases(v: int) -> Iterator[tuple[str, object, bool, object]]:
    yield "huge", 10**12, False, None
    yield "overflow", 2**64, False, None
    yield "negative", -1, False, None
    if v != 0:
        yield "zero", 0, False, None
    yield "float", float(v), False, None
    yield "str", str(v), False, None
    yield "bool", True, False, None
    yield "np_int64", np.int64(v), True, v
    yield "np_int32", np.int32(v), True, v


def _float_cases(v: float) -> Iterator[tuple[str, object, bool, object]]:
    yield "nan", math.nan, False, None
    yield "posinf", math.inf, False, None
    yield "neginf", -math.inf, False, None
    yield "f32_overflow", 1e39, False, None
    yield "max", float(np.finfo(np.float64).max), False, None
    yield "tiny", 1e-320, False, None
    if v != 0:
        yield "negative", -abs(v), False, None
        yield "zero", 0.0, False, None
    yield "str", str(v), False, None
    yield "bool", True, False, None
    yield "np_float64", np.float64(v), True, v
    yield "np_float32", np.float32(v), True, float(np.float32(v))


def _callable_cases(f: Callable[..., Any]) -> Iterator[tuple[str, object, bool]]:
    def scaled(factor: float) -> Callable[..., Any]:
        return lambda *a, **k: f(*a, **k) * factor

    yield "not_callable", 1, False
    yield "returns_nan", scaled(math.nan), False
    yield "returns_posinf", lambda *a, **k: np.full_like(f(*a, **k), np.inf), False
    yield "returns_wrong_shape", lambda *a, **k: np.asarray(f(*a, **k))[..., :0], False
    yield (
        "returns_other_dtype",
        lambda *a, **k: (r := np.asarray(f(*a, **k))).astype(_other_float(r.dtype)),
        False,
    )
    yield "returns_list", lambda *a, **k: np.asarray(f(*a, **k)).tolist(), False


def _perturbations(
    argument: str, value: object, default: object
) -> Iterator[tuple[str, object, bool, object]]:
    """(label, value, accept, reference) for one argument."""
    if default is not None and value is not None:
        yield "none", None, False, None
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            cases = _float_array_cases(value)
        elif value.dtype.kind in "iu":
            cases = _int_array_cases(value)
        elif value.dtype.kind == "b":
            cases = _bool_array_cases(value)
        else:
            cases = iter(())
        for label, new, accept in cases:
            yield label, new, accept, value
    elif isinstance(value, bool | np.bool_):
        yield "int", int(value), False, None
        yield "str", str(value), False, None
        yield "np_bool", np.bool_(value), True, bool(value)
    elif isinstance(value, int):
        yield from _int_cases(value)
    elif isinstance(value, float):
        yield from _float_cases(value)
    elif isinstance(value, type) and issubclass(value, np.generic):
        yield "int_dtype", np.int64, False, None
        yield "float16", np.float16, False, None
    elif isinstance(value, np.random.Generator):
        yield "int_seed", 0, False, None
        yield "random_state", np.random.RandomState(0), False, None
    elif isinstance(value, tuple):
        yield "list", list(value), False, None
        if value:
            yield "short", value[:-1], False, None
        for i, item in enumerate(value):
            if isinstance(item, np.ndarray):
                for label, new, accept, _ in _perturbations(argument, item, None):
                    if label == "none":
                        continue
                    replaced = (*value[:i], new, *value[i + 1 :])
                    yield f"[{i}].{label}", replaced, accept, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield "wrong_type", object(), False, None
    elif callable(value) and not isinstance(value, type):
        for label, new, accept in _callable_cases(value):
            yield label, new, accept, value


# --------------------------------------------------------------------------- calling


def _resolve(key: str) -> tuple[Callable[..., Any], bool]:
    """The callable for ``key`` and whether it is an instance method (needs ``self``)."""
    obj = public_callables()[key]
    owner_name, _, attr = key.rpartition(".")
    owner = public_callables().get(owner_name)
    if inspect.isclass(owner):
        raw = inspect.getattr_static(owner, attr)
        if inspect.isfunction(raw):
            return raw, True
    return obj, False  # type: ignore[return-value]


def _signature_defaults(function: Callable[..., Any]) -> dict[str, object]:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}
    return {name: p.default for name, p in parameters.items()}


def _invoke(function: Callable[..., Any], is_method: bool, args: dict[str, object]) -> object:
    args = dict(args)
    positional: list[object] = []
    if is_method:
        positional.append(args.pop("self"))
    signature = inspect.signature(function)
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY and name in args:
            positional.append(args.pop(name))
    return function(*positional, **args)


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Timeout


def _timed_call(
    function: Callable[..., Any], is_method: bool, args: dict[str, object]
) -> tuple[object, BaseException | None, int]:
    """(result, exception or None, peak traced bytes) of one call under the limits."""
    # Note: signals can only be handled in the main thread (pytest and xdist workers run
    # tests there); elsewhere the call runs without the time limit rather than failing.
    timed = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGALRM, _on_alarm) if timed else None
    tracemalloc.start()
    if timed:
        signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
    try:
        with np.errstate(all="ignore"):
            result = _invoke(function, is_method, args)
        error: BaseException | None = None
    except (Exception, _Timeout) as raised:
        result, error = None, raised
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, error, peak


# --------------------------------------------------------------------------- result checks


def _arrays(value: object, depth: int = 0) -> Iterator[np.ndarray[Any, Any]]:
    """Every ndarray reachable from ``value`` through tuples, lists, dicts and dataclasses."""
    if depth > 6:
        return
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _arrays(item, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _arrays(getattr(value, field.name), depth + 1)


def _impl_containers(value: object, depth: int = 0) -> Iterator[object]:
    """Every impl dataclass instance reachable from ``value``."""
    if depth > 6:
        return
    if isinstance(value, tuple | list):
        for item in value:
            yield from _impl_containers(item, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value).__module__.startswith("impl."):
            yield value
        for field in dataclasses.fields(value):
            yield from _impl_containers(getattr(value, field.name), depth + 1)


def _has(value: object, predicate: Callable[[np.ndarray[Any, Any]], bool]) -> bool:
    return any(a.dtype.kind in "fc" and a.size and predicate(a) for a in _arrays(value)) or any(
        isinstance(s, float | np.floating) and predicate(np.asarray(s)) for s in _scalars(value)
    )


def _scalars(value: object) -> Iterator[object]:
    if isinstance(value, float | np.floating):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _scalars(item)


def _same(actual: object, desired: object) -> str | None:
    """None if ``actual`` equals ``desired`` (arrays within ACCEPT_RTOL), else a description."""
    if isinstance(desired, np.ndarray):
        if not isinstance(actual, np.ndarray):
            return f"returned {type(actual).__name__}, the reference call an array"
        if actual.shape != desired.shape or actual.dtype != desired.dtype:
            return (
                f"returned {actual.dtype}{actual.shape}, reference {desired.dtype}{desired.shape}"
            )
        if desired.dtype.kind in "fc" and desired.size:
            finite = np.isfinite(desired)
            if not np.array_equal(finite, np.isfinite(actual)) or not np.array_equal(
                desired[~finite], actual[~finite]
            ):
                return "non-finite entries differ from the reference call"
            scale = float(np.abs(desired[finite]).max()) if finite.any() else 0.0
            tolerance = ACCEPT_RTOL * float(np.finfo(desired.dtype).eps) * scale
            if finite.any() and float(np.abs(actual[finite] - desired[finite]).max()) > tolerance:
                return "values differ from the reference call"
        elif not np.array_equal(actual, desired):
            return "values differ from the reference call"
        return None
    if isinstance(desired, tuple | list):
        if not isinstance(actual, tuple | list) or len(actual) != len(desired):
            return "a different structure than the reference call"
        for a, d in zip(actual, desired, strict=True):
            if (problem := _same(a, d)) is not None:
                return problem
        return None
    if dataclasses.is_dataclass(desired) and not isinstance(desired, type):
        if type(actual) is not type(desired):
            return f"returned {type(actual).__name__}, reference {type(desired).__name__}"
        for field in dataclasses.fields(desired):
            if (
                problem := _same(getattr(actual, field.name), getattr(desired, field.name))
            ) is not None:
                return f"{field.name}: {problem}"
        return None
    return None


def _names(message: str, argument: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(argument)}(?!\w)", message) is not None


def _snapshot(args: dict[str, object]) -> list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    return [(a, a.copy()) for a in _arrays(list(args.values()))]


def _written(snapshot: list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]) -> bool:
    return any(
        not np.array_equal(a, before, equal_nan=a.dtype.kind in "fc") for a, before in snapshot
    )


def _writable_container_arrays(value: object) -> list[str]:
    found = []
    for container in _impl_containers(value):
        for field in dataclasses.fields(container):  # type: ignore[arg-type]
            held = getattr(container, field.name)
            if isinstance(held, np.ndarray) and held.flags.writeable:
                found.append(f"{type(container).__name__}.{field.name}")
    return found


# --------------------------------------------------------------------------- the cases


def _all_cases(key: str, factory: Callable[[], dict[str, object]]) -> list[Case]:
    function, _ = _resolve(key)
    defaults = _signature_defaults(function)
    cases = []
    args = factory()
    for argument, value in args.items():
        if argument == "self":
            continue
        others = [v for a, v in args.items() if a != argument]
        mixes = any(a.dtype.kind == "f" for a in _arrays(others))
        for label, new, accept, reference in _perturbations(
            argument, value, defaults.get(argument, inspect.Parameter.empty)
        ):
            if label.endswith("other_float") and not mixes:
                continue  # the only float array: the other float dtype is a valid call
            cases.append(Case(argument, label, new, accept, reference))
    return cases


def _sample(key: str, cases: list[Case]) -> list[Case]:
    if RUN_ALL or len(cases) <= DEFAULT_SAMPLE:
        return cases
    ranked = sorted(cases, key=lambda c: zlib.crc32(f"{key}|{c.argument}|{c.label}".encode()))
    return ranked[:DEFAULT_SAMPLE]


def _documented_predicate(
    family: str, key: str, argument: str, label: str
) -> Callable[[object], bool] | None:
    for (k, a, pattern), predicate in _documented(family).items():
        if k == key and fnmatch.fnmatchcase(argument, a) and fnmatch.fnmatchcase(label, pattern):
            return predicate
    return None


def _check_call(
    family: str,
    key: str,
    factory: Callable[[], dict[str, object]],
    case: Case,
    base: object,
) -> str | None:
    function, is_method = _resolve(key)
    args = factory()
    args[case.argument] = case.value
    snapshot = _snapshot(args)
    result, error, peak = _timed_call(function, is_method, args)
    where = f"{case.argument}={case.label}"
    if isinstance(error, _Timeout):
        return f"{where}: ran past {TIME_LIMIT_S} s"
    if peak > MEMORY_LIMIT_BYTES:
        return f"{where}: allocated {peak / 2**20:.0f} MiB (limit {MEMORY_LIMIT_BYTES >> 20} MiB)"
    if _written(snapshot):
        return f"{where}: wrote to an input array"
    predicate = _documented_predicate(family, key, case.argument, case.label)
    if error is not None:
        if not isinstance(error, ValueError | TypeError):
            return f"{where}: raised {type(error).__name__}: {error}"
        if case.accept:
            return f"{where}: must be accepted, raised {type(error).__name__}: {error}"
        if not _names(str(error), case.argument):
            return f"{where}: {type(error).__name__} does not name {case.argument!r}: {error}"
        return None
    if case.accept:
        reference_args = factory()
        reference_args[case.argument] = case.reference
        reference, reference_error, _ = _timed_call(function, is_method, reference_args)
        if reference_error is not None:
            return f"{where}: the reference call raised {reference_error!r}"
        problem = _same(result, reference)
        return None if problem is None else f"{where}: accepted, but {problem}"
    if predicate is not None:
        return None if predicate(result) else f"{where}: documented result fails its predicate"
    if _has(result, lambda a: bool(np.isnan(a).any())):
        return f"{where}: returned NaN (no error)"
    if _has(result, lambda a: bool(np.isinf(a).any())) and not _has(
        base, lambda a: bool(np.isinf(a).any())
    ):
        return f"{where}: returned inf (no error)"
    return f"{where}: no error and no documented result (returned {type(result).__name__})"


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("family", [pytest.param(f, marks=_marks(f)) for f in FAMILIES])
def test_every_public_callable_has_a_case(family: str) -> None:
    """Issue 7: a new public callable without an adversarial case fails here."""
    modules = {m.__name__.split(".")[1] for m in _impl_modules()}
    unassigned = sorted(modules - set(FAMILY_OF_MODULE))
    assert not unassigned, f"modules with no family in FAMILY_OF_MODULE: {unassigned}"
    assert CASES[family] is not None, f"tests/adversarial_cases_{family}.py is missing"
    covered = set(_valid_calls(family)) | set(_output_records(family))
    wanted = {k for k in public_callables() if _family(k) == family}
    missing = sorted(wanted - covered)
    stale = sorted(covered - wanted)
    assert not missing, f"public callables without a case: {missing}"
    assert not stale, f"cases for callables that do not exist: {stale}"


@pytest.mark.parametrize("family", [pytest.param(f, marks=_marks(f)) for f in FAMILIES])
def test_output_records_are_never_arguments(family: str) -> None:
    """A class declared output-only must not appear in any public callable's signature."""
    records = {key.rpartition(".")[2] for key in _output_records(family)}
    offenders = []
    for key, obj in public_callables().items():
        if not callable(obj) or inspect.isclass(obj):
            continue
        try:
            parameters = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            continue
        for parameter in parameters:
            shown = str(parameter.annotation)
            offenders += [
                f"{key}({parameter.name})" for r in records if re.search(rf"\b{r}\b", shown)
            ]
    assert not offenders, f"output-only records taken as arguments: {offenders}"


def _callable_params() -> list[Any]:
    return [
        pytest.param(family, key, id=key, marks=_marks(family))
        for family in FAMILIES
        for key in sorted(_valid_calls(family))
    ]


@pytest.mark.parametrize(("family", "key"), _callable_params())
def test_bad_input_is_a_named_error(family: str, key: str) -> None:
    """Issue 7, classes 1–8: one bad argument at a time → a named error or a documented result."""
    factory = _valid_calls(family)[key]
    function, is_method = _resolve(key)
    args = factory()
    snapshot = _snapshot(args)
    base, error, peak = _timed_call(function, is_method, args)
    assert error is None, f"the valid call raised {error!r}"
    assert peak <= MEMORY_LIMIT_BYTES, f"the valid call allocated {peak >> 20} MiB"
    assert not _written(snapshot), "the valid call wrote to an input array"
    assert not _has(base, lambda a: bool(np.isnan(a).any())), "the valid call returned NaN"
    # Class 1: containers passed in, and containers a constructor builds, hold read-only arrays
    # (result records that impl only returns are exempt).
    constructed = base if inspect.isclass(function) or key.endswith(".initialize") else None
    records = {k.rpartition(".")[2] for k in _output_records(family)}
    writable = [
        name
        for name in _writable_container_arrays([args, constructed])
        if name.split(".")[0] not in records
    ]
    assert not writable, f"parameter containers hold writable arrays: {writable}"
    failures = []
    for case in _sample(key, _all_cases(key, factory)):
        problem = _check_call(family, key, factory, case, base)
        if problem is not None:
            failures.append(problem)
    assert not failures, f"{len(failures)} bad outcomes:\n" + "\n".join(failures)


# --------------------------------------------------------------------------- the harness itself


def test_harness_detects_hangs_allocations_writes_and_unnamed_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The harness's own checks can fail: a loop past the time limit, a 300 MiB peak, a
    write to an input, an error naming another argument, and NaN output are all caught."""
    import time

    monkeypatch.setattr(sys.modules[__name__], "TIME_LIMIT_S", 0.2)

    def spin() -> None:
        while True:
            time.sleep(0.01)

    _, error, _ = _timed_call(spin, False, {})
    assert isinstance(error, _Timeout)
    monkeypatch.setattr(sys.modules[__name__], "TIME_LIMIT_S", 10.0)
    _, error, peak = _timed_call(lambda: np.ones(300 * 2**20 // 8).sum(), False, {})
    assert error is None
    assert peak > MEMORY_LIMIT_BYTES
    x = np.zeros(3)
    snapshot = _snapshot({"x": x})
    x[0] = 1.0
    assert _written(snapshot)
    assert _names("inputs has 3 features", "inputs")
    assert not _names("keys has 3 features", "inputs")
    assert not _names("W_q has 3 rows", "W")  # a whole word, not a prefix
    assert _names("state[1] has 3 features", "state")
    assert _has(np.array([1.0, np.nan]), lambda a: bool(np.isnan(a).any()))
