"""The tolerance experiment: derived bound against the largest error correct kernels make.

For each precision and family, ``margins`` draws random cases with a seeded
``numpy.random.Generator`` (sizes and magnitudes as in the checks), runs a
kernel, and records for every output entry the ratio |computed − reference| /
tolerance, where the tolerance is the derived bound × ``SAFETY_FACTOR`` used by
the checks. A bound is **honest** when the largest ratio over all cases stays
≤ 1 for correct kernels, and **useful** when a kernel that silently computes
in a lower precision (a float32 kernel running in float16 or bfloat16 inside)
exceeds it. ``nndl8 conformance torch --margins`` prints the table, also on
CUDA (``--device cuda``); ``impl_kernels`` gives nndl8's own kernels in float32
and float64 for the same experiment without any framework.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from impl.attention import scaled_dot_product_attention
from impl.softmax import log_softmax, softmax
from impl.testing.bounds import SAFETY_FACTOR, Arithmetic
from impl.testing.references import (
    MultiheadParameters,
    Reference,
    log_softmax_reference,
    multihead_reference,
    sdpa_reference,
    softmax_reference,
)
from impl.testing.registry import RunConfig
from impl.testing.tolerances import Precision, precision_dtype, round_to

__all__ = ["FAMILIES", "Margin", "Row", "impl_kernels", "margins", "print_margins"]

F64 = NDArray[np.float64]
FAMILIES = ("softmax", "log_softmax", "sdpa", "sdpa_bool_mask", "sdpa_float_mask", "sdpa_causal",
            "sdpa_gqa", "mha")  # fmt: skip


@dataclass(frozen=True)
class Margin:
    """Outcome of one row: ``worst`` = max |error| / tolerance over all entries of all cases;
    ``error`` and ``tolerance`` at that entry; ``largest_error`` over all entries; ``cases``."""

    worst: float
    error: float
    tolerance: float
    largest_error: float
    cases: int


@dataclass(frozen=True)
class Row:
    """A labelled margin: kernel, declared precision, family."""

    kernel: str
    precision: str
    family: str
    margin: Margin


def _cast(x: F64, precision: Precision) -> NDArray[Any]:
    return x.astype(precision_dtype(precision))


def _uniform(
    rng: np.random.Generator, shape: tuple[int, ...], magnitude: float, p: Precision
) -> F64:
    return round_to(rng.uniform(-magnitude, magnitude, size=shape), p)


def _sdpa_case(
    rng: np.random.Generator, family: str, p: Precision, same_value_dim: bool = False
) -> dict[str, Any]:
    b, h_kv = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    h = h_kv * int(rng.integers(2, 4)) if family == "sdpa_gqa" else h_kv
    length, memory = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    e, e_v = int(rng.integers(1, 17)), int(rng.integers(1, 17))
    e_v = e if same_value_dim else e_v
    case: dict[str, Any] = {
        "query": _uniform(rng, (b, h, length, e), 3.0, p),
        "key": _uniform(rng, (b, h_kv, memory, e), 3.0, p),
        "value": _uniform(rng, (b, h_kv, memory, e_v), 10.0, p),
    }
    if family in ("sdpa_bool_mask", "sdpa_float_mask"):
        allowed = rng.random((length, memory)) < 0.7
        allowed[np.arange(length), rng.integers(0, memory, size=length)] = True
        if family == "sdpa_bool_mask":
            case["attn_mask"] = allowed
        else:
            case["attn_mask"] = np.where(allowed, _uniform(rng, (length, memory), 5.0, p), -np.inf)
    if family == "sdpa_causal":
        case["is_causal"] = True
    if family == "sdpa_gqa":
        case["enable_gqa"] = True
    return case


def _mha_case(rng: np.random.Generator, p: Precision) -> tuple[dict[str, Any], MultiheadParameters]:
    heads, d = int(rng.integers(1, 3)), int(rng.integers(1, 5))
    e = heads * d
    kdim, vdim = (
        (int(rng.integers(1, 6)), int(rng.integers(1, 6))) if rng.random() < 0.5 else (e, e)
    )
    separate = (kdim, vdim) != (e, e)
    b, length, memory = int(rng.integers(1, 3)), int(rng.integers(1, 6)), int(rng.integers(1, 6))

    def arr(*shape: int, magnitude: float = 1.0) -> F64:
        return _uniform(rng, shape, magnitude, p)

    bias = rng.random() < 0.7
    bias_kv = rng.random() < 0.3
    params = MultiheadParameters(
        e,
        heads,
        arr(e, e),
        None if separate else arr(3 * e, e),
        arr(e, e) if separate else None,
        arr(e, kdim) if separate else None,
        arr(e, vdim) if separate else None,
        arr(3 * e) if bias else None,
        arr(e) if bias else None,
        arr(e) if bias_kv else None,
        arr(e) if bias_kv else None,
        bool(rng.random() < 0.3),
    )
    ignore = rng.random((b, memory)) < 0.3
    ignore[:, int(rng.integers(0, memory))] = False
    case = {
        "query": arr(b, length, e, magnitude=3.0),
        "key": arr(b, memory, kdim, magnitude=3.0),
        "value": arr(b, memory, vdim, magnitude=3.0),
        "key_padding_mask": ignore,
    }
    return case, params


def _ratio(got: NDArray[Any], ref: Reference) -> tuple[float, float, float, float]:
    g = np.asarray(got).astype(np.float64)
    finite = np.isfinite(ref.value)
    err = np.where(finite, np.abs(g - ref.value), np.where(g == ref.value, 0.0, np.inf))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(err == 0, 0.0, err / ref.tolerance)
    i = int(np.argmax(ratio))
    return float(ratio.flat[i]), float(err.flat[i]), float(ref.tolerance.flat[i]), float(err.max())


Kernels = dict[str, Callable[..., Any]]


def margins(
    kernels: Kernels,
    family: str,
    precision: Precision,
    cases: int,
    seed: int = 0,
    *,
    same_value_dim: bool = False,
) -> Margin:
    """Run ``cases`` random cases of ``family`` through ``kernels[family]`` in ``precision``.

    ``same_value_dim`` draws values as wide as queries (JAX's attention requires it).
    """
    rng = np.random.default_rng([seed, FAMILIES.index(family), len(precision)])
    arith = Arithmetic.of(precision)
    kernel = kernels[family]
    worst = (0.0, 0.0, 0.0)
    largest = 0.0
    for _ in range(cases):
        if family in ("softmax", "log_softmax"):
            x = _uniform(rng, (int(rng.integers(1, 4)), int(rng.integers(1, 33))), 10.0, precision)
            reference = softmax_reference if family == "softmax" else log_softmax_reference
            ref = reference(x, arith, SAFETY_FACTOR)
            got = kernel(_cast(x, precision))
        elif family == "mha":
            case, params = _mha_case(rng, precision)
            ref = multihead_reference(
                case["query"],
                case["key"],
                case["value"],
                params,
                arith,
                SAFETY_FACTOR,
                key_padding_mask=case["key_padding_mask"],
            )
            dtype = precision_dtype(precision)
            got, _ = kernel(
                *(_cast(case[n], precision) for n in ("query", "key", "value")),
                params.as_dtype(dtype),
                key_padding_mask=case["key_padding_mask"],
            )
        else:
            case = _sdpa_case(rng, family, precision, same_value_dim)
            ref = sdpa_reference(
                case["query"],
                case["key"],
                case["value"],
                arith,
                SAFETY_FACTOR,
                attn_mask=case.get("attn_mask"),
                is_causal=case.get("is_causal", False),
                enable_gqa=case.get("enable_gqa", False),
            )
            kwargs = {k: v for k, v in case.items() if k not in ("query", "key", "value")}
            mask = kwargs.get("attn_mask")
            if mask is not None and mask.dtype != np.bool_:
                kwargs["attn_mask"] = _cast(mask, precision)
            got = kernel(*(_cast(case[n], precision) for n in ("query", "key", "value")), **kwargs)
        ratio, err, tol, big = _ratio(got, ref)
        largest = max(largest, big)
        if ratio > worst[0]:
            worst = (ratio, err, tol)
    return Margin(worst[0], worst[1], worst[2], largest, cases)


def impl_kernels() -> Kernels:
    """nndl8's own kernels (float32 and float64 only), run in the precision of their inputs."""

    def sdpa(q: Any, k: Any, v: Any, attn_mask: Any = None, **kw: Any) -> Any:
        if kw.pop("enable_gqa", False):
            group = q.shape[-3] // k.shape[-3]
            k, v = np.repeat(k, group, axis=-3), np.repeat(v, group, axis=-3)
        return scaled_dot_product_attention(q, k, v, attn_mask, **kw)

    return {
        "softmax": softmax,
        "log_softmax": log_softmax,
        **{f: sdpa for f in FAMILIES if f.startswith("sdpa")},
    }


def torch_kernels(device: str, precision: Precision) -> Kernels:
    """PyTorch's kernels through the adapters (imports torch)."""
    from impl.testing.torch_adapters import (
        torch_log_softmax,
        torch_multihead_attention,
        torch_sdpa,
        torch_softmax,
    )

    config = RunConfig(precision=precision, device=device)
    sdpa = torch_sdpa(config)
    return {
        "softmax": torch_softmax(config),
        "log_softmax": torch_log_softmax(config),
        **{f: sdpa for f in FAMILIES if f.startswith("sdpa")},
        "mha": torch_multihead_attention(config),
    }


def jax_kernels(precision: Precision) -> Kernels:
    """JAX's kernels through the adapters (imports jax)."""
    from impl.testing.jax_adapters import jax_log_softmax, jax_sdpa, jax_softmax

    config = RunConfig(precision=precision, layout="BHLE")
    sdpa = jax_sdpa(config)
    return {
        "softmax": jax_softmax(config),
        "log_softmax": jax_log_softmax(config),
        **{f: sdpa for f in FAMILIES if f.startswith("sdpa") and f != "sdpa_causal"},
    }


def downcast(kernels: Kernels, inner: Precision, outer: Precision) -> Kernels:
    """Kernels that take and return ``outer`` arrays but compute in ``inner`` (a planted defect)."""

    def wrap(kernel: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            def down(x: Any) -> Any:
                if isinstance(x, np.ndarray) and x.dtype != np.bool_:
                    return x.astype(precision_dtype(inner))
                return x

            result = kernel(*(down(a) for a in args), **{k: down(v) for k, v in kwargs.items()})
            if isinstance(result, tuple):
                return tuple(
                    None if r is None else np.asarray(r).astype(precision_dtype(outer))
                    for r in result
                )
            return np.asarray(result).astype(precision_dtype(outer))

        return run

    return {name: wrap(kernel) for name, kernel in kernels.items()}


def rows(
    framework: str, precisions: list[Precision], device: str, cases: int, seed: int
) -> Iterator[Row]:
    """Yield the margin rows of a framework (``torch``, ``jax`` or ``impl``) and the downcasts."""
    jax = framework == "jax"
    for precision in precisions:
        if framework == "torch":
            kernels = torch_kernels(device, precision)
        elif framework == "jax":
            kernels = jax_kernels(precision)
        else:
            if precision not in ("float32", "float64"):
                continue
            kernels = impl_kernels()
        for family in FAMILIES:
            if family in kernels:
                m = margins(kernels, family, precision, cases, seed, same_value_dim=jax)
                yield Row(framework, precision, family, m)
        if framework == "torch":  # nn.LSTM/LSTMCell/GRU/GRUCell (impl.testing.torch_recurrent)
            from impl.testing.torch_recurrent import margin_rows

            yield from margin_rows(device, precision, max(cases // 10, 20), seed)
    if "float32" in precisions:
        for inner in ("float16", "bfloat16"):
            inner_p: Precision = "float16" if inner == "float16" else "bfloat16"
            if framework == "torch":
                base = torch_kernels(device, inner_p)
            elif framework == "jax":
                base = jax_kernels(inner_p)
            else:
                base = {}
            for family in ("softmax", "sdpa"):
                if family in base:
                    planted = downcast(base, inner_p, "float32")
                    few = max(cases // 10, 20)
                    m = margins(planted, family, "float32", few, seed, same_value_dim=jax)
                    yield Row(f"{framework} in {inner}", "float32", family, m)


def print_margins(
    framework: str, precisions: list[Precision], device: str, cases: int, seed: int
) -> int:
    """Print the margins table; return 1 if a correct kernel exceeded its bound, else 0."""
    print(
        f"bound = {SAFETY_FACTOR:g} × derived forward bound; ratio = largest |error| / bound over "
        f"all entries of {cases} random cases (honest: ≤ 1); device {device}"
    )
    names = ("ratio", "error", "bound", "max error")
    header = f"{'kernel':22} {'precision':9} {'family':16} " + " ".join(f"{n:>10}" for n in names)
    print(header)
    print("-" * len(header))
    dishonest = False
    for row in rows(framework, precisions, device, cases, seed):
        m = row.margin
        planted = " in " in row.kernel
        verdict = (
            ("rejected" if m.worst > 1 else "NOT rejected")
            if planted
            else ("" if m.worst <= 1 else "EXCEEDED")
        )
        dishonest |= (not planted and m.worst > 1) or (planted and m.worst <= 1)
        print(
            f"{row.kernel:22} {row.precision:9} {row.family:16} {m.worst:10.3g} {m.error:10.3g} "
            f"{m.tolerance:10.3g} {m.largest_error:10.3g} {verdict}",
            flush=True,
        )
    ratio_note = "factor bound/error at the worst entry = 1 / ratio"
    print(f"\n({ratio_note}; bounds: impl.testing.bounds, derivation: spec.rounding_error)")
    return 1 if dishonest else 0
