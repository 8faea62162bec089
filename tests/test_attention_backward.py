"""impl.attention_backward: VJPs against finite differences, the spec, PyTorch, and their laws.

Book: §8.2–8.3 (softmax attention, scores, multi-head), trained by backpropagation.

Finite differences. Central differences of the public forward (``impl.attention``,
``impl.multihead``, ``impl.scores``, ``impl.softmax``) in float64 with step
h = ε^{1/3} ≈ 6.1e-6, which balances truncation h²·M₃/6 against rounding
2ε|ℓ|/h (M₃ a bound on the third derivative along the step). With inputs in
[−2, 2] and sizes ≤ 5, |ℓ| ≤ 1e2 and M₃ ≤ 1e2, so the error is below
6e-10 + 7e-9 < 1e-8; ``FD_TOL`` = 1e-6 leaves a factor 100 for the M₃ estimate.
"""

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from impl.attention import (
    scaled_dot_product_attention,
    scaled_dot_product_attention_with_weights,
)
from impl.attention_backward import (
    additive_score_vjp,
    bilinear_score_vjp,
    log_softmax_vjp,
    logsumexp,
    logsumexp_vjp,
    multi_head_attention_vjp,
    scaled_dot_product_attention_forward,
    scaled_dot_product_attention_vjp,
    softmax_vjp,
)
from impl.multihead import TransformerAttentionParameters, multi_head_attention
from impl.scores import (
    AdditiveScoreParameters,
    BilinearScoreParameters,
    additive_score,
    bilinear_score,
)
from impl.softmax import log_softmax, softmax, softmax_jacobian
from impl.testing.backward import sdpa_gradient_bound
from impl.testing.tolerances import Precision
from spec.attention_backward import log_softmax_vjp_expr, sdpa_vjp_expr, softmax_vjp_expr

FD_STEP = float(np.finfo(np.float64).eps) ** (1 / 3)
"""Central-difference step h = ε^{1/3} (see the module docstring)."""

FD_TOL = 1e-6
"""Absolute tolerance of central differences (derivation in the module docstring)."""

EXACT_REPLAY = 1e-12
"""Two float64 evaluations of the same formula in a different operation order
(recomputation from the LSE, lambdified spec): γ_n·magnitude with n ≤ 50 and
magnitudes ≤ 1e2 is ≤ 50·1.1e-16·1e2 ≈ 6e-13; 1e-12 rounds that up."""


def numeric_gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Central differences of a scalar function, entry by entry."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = FD_STEP
        grad[index] = (f(x + step) - f(x - step)) / (2 * FD_STEP)
    return grad


def _case(seed: int, length: int, memory: int, e_k: int, e_v: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "q": rng.uniform(-2, 2, (2, length, e_k)),
        "k": rng.uniform(-2, 2, (2, memory, e_k)),
        "v": rng.uniform(-2, 2, (2, memory, e_v)),
        "g": rng.uniform(-2, 2, (2, length, e_v)),
        "bool": rng.random((length, memory)) < 0.7,
        "float": np.where(
            rng.random((length, memory)) < 0.2, -np.inf, rng.uniform(-2, 1, (length, memory))
        ),
    }


sizes = st.tuples(
    st.integers(0, 2**32 - 1),
    st.integers(1, 4),
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(1, 4),
)
mask_kinds = st.sampled_from(["none", "bool", "float", "causal"])


def _mask(case: dict[str, np.ndarray], kind: str) -> Any:
    return None if kind in ("none", "causal") else case[kind]


@given(sizes, mask_kinds)
def test_sdpa_vjp_matches_finite_differences(size: tuple[int, ...], kind: str) -> None:
    """dQ, dK, dV (and the float mask's dM) equal central differences of the forward (§8.3)."""
    case = _case(*size)
    mask, causal = _mask(case, kind), kind == "causal"
    grads = scaled_dot_product_attention_vjp(
        case["q"], case["k"], case["v"], case["g"], mask, is_causal=causal
    )
    args = {"q": case["q"], "k": case["k"], "v": case["v"]}

    def loss_of(name: str) -> Callable[[np.ndarray], float]:
        def loss(x: np.ndarray) -> float:
            call = {**args, name: x}
            out = scaled_dot_product_attention(
                call["q"], call["k"], call["v"], mask, is_causal=causal
            )
            return float((out * case["g"]).sum())

        return loss

    for name, got in (("q", grads.query), ("k", grads.key), ("v", grads.value)):
        np.testing.assert_allclose(got, numeric_gradient(loss_of(name), args[name]), atol=FD_TOL)
    if kind == "float":
        finite = np.isfinite(case["float"])

        def mask_loss(m: np.ndarray) -> float:
            full = np.where(finite, m, -np.inf)
            return float(
                (
                    scaled_dot_product_attention(case["q"], case["k"], case["v"], full) * case["g"]
                ).sum()
            )

        numeric = numeric_gradient(mask_loss, np.where(finite, case["float"], 0.0))
        assert grads.mask is not None
        np.testing.assert_allclose(
            np.where(finite, grads.mask, 0), np.where(finite, numeric, 0), atol=FD_TOL
        )
        assert (grads.mask[~finite] == 0).all(), "a −inf mask entry has zero gradient"


@pytest.mark.parametrize("masked", [False, True])
def test_sdpa_vjp_matches_spec_lambdified(masked: bool) -> None:
    """impl equals the spec's sympy.diff derivation at (L, S, D, E) = (2, 3, 2, 2)."""
    allowed = ((True, False, True), (False, False, False)) if masked else None
    symbols, derived = sdpa_vjp_expr(2, 3, 2, 2, allowed, not masked)
    rng = np.random.default_rng(7)
    q, k, v, g = (
        rng.normal(size=(2, 2)),
        rng.normal(size=(3, 2)),
        rng.normal(size=(3, 2)),
        rng.normal(size=(2, 2)),
    )
    m = rng.normal(size=(2, 3))
    scale = 0.7
    values = [*q.ravel(), *k.ravel(), *v.ravel(), *g.ravel(), *(() if masked else m.ravel()), scale]
    mask: Any = np.array(allowed) if masked else m
    grads = scaled_dot_product_attention_vjp(q, k, v, g, mask, scale=scale)
    for name, got in (
        ("query", grads.query),
        ("key", grads.key),
        ("value", grads.value),
        ("mask", grads.mask),
    ):
        if name not in derived:
            continue
        expected = np.array(
            sympy.lambdify(symbols, derived[name], modules="numpy")(*values), dtype=float
        )
        assert got is not None
        np.testing.assert_allclose(got, expected, atol=EXACT_REPLAY)


@given(sizes, mask_kinds)
def test_sdpa_vjp_recomputation_paths_agree(size: tuple[int, ...], kind: str) -> None:
    """Stored P, P recomputed from the LSE, and the rowsum(dO ∘ O) correction give one gradient."""
    case = _case(*size)
    mask, causal = _mask(case, kind), kind == "causal"
    q, k, v, g = case["q"], case["k"], case["v"], case["g"]
    plain = scaled_dot_product_attention_vjp(q, k, v, g, mask, is_causal=causal)
    out, lse = scaled_dot_product_attention_forward(q, k, v, mask, is_causal=causal)
    _, weights = scaled_dot_product_attention_with_weights(q, k, v, mask, is_causal=causal)
    options: list[dict[str, Any]] = [
        {"weights": weights},
        {"logsumexp": lse},
        {"logsumexp": lse, "output": out},
    ]
    for kwargs in options:
        other = scaled_dot_product_attention_vjp(q, k, v, g, mask, is_causal=causal, **kwargs)
        for a, b in (
            (plain.query, other.query),
            (plain.key, other.key),
            (plain.value, other.value),
        ):
            np.testing.assert_allclose(a, b, atol=EXACT_REPLAY)


def test_sdpa_vjp_masked_keys_and_fully_masked_rows_are_exactly_zero() -> None:
    """A key masked for every query: dK = dV = 0 exactly; fully masked query: dQ = 0."""
    case = _case(3, 4, 5, 3, 2)
    mask = case["bool"].copy()
    mask[:, 2] = False
    mask[1] = False
    _, lse = scaled_dot_product_attention_forward(case["q"], case["k"], case["v"], mask)
    paths: list[dict[str, Any]] = [{}, {"logsumexp": lse}]
    for kwargs in paths:
        grads = scaled_dot_product_attention_vjp(
            case["q"], case["k"], case["v"], case["g"], mask, **kwargs
        )
        assert (grads.key[:, 2] == 0).all()
        assert (grads.value[:, 2] == 0).all()
        assert (grads.query[:, 1] == 0).all()
        assert all(np.isfinite(x).all() for x in (grads.query, grads.key, grads.value))


@given(sizes, mask_kinds, st.floats(-3, 3))
def test_sdpa_vjp_is_linear_in_the_upstream_gradient(
    size: tuple[int, ...], kind: str, a: float
) -> None:
    """VJP(a·g₁ + g₂) = a·VJP(g₁) + VJP(g₂) (a VJP is linear in ḡ)."""
    case = _case(*size)
    mask, causal = _mask(case, kind), kind == "causal"
    q, k, v, g1 = case["q"], case["k"], case["v"], case["g"]
    g2 = np.random.default_rng(size[0] + 1).normal(size=g1.shape)

    def vjp(g: np.ndarray) -> Any:
        return scaled_dot_product_attention_vjp(q, k, v, g, mask, is_causal=causal)

    both, one, two = vjp(a * g1 + g2), vjp(g1), vjp(g2)
    for name in ("query", "key", "value"):
        np.testing.assert_allclose(
            getattr(both, name), a * getattr(one, name) + getattr(two, name), atol=EXACT_REPLAY * 10
        )


@given(sizes, st.sampled_from(["none", "bool", "float"]))
def test_sdpa_vjp_is_permutation_equivariant_over_the_memory(
    size: tuple[int, ...], kind: str
) -> None:
    """Permuting keys/values (and mask columns) permutes dK, dV and leaves dQ unchanged."""
    case = _case(*size)
    mask = _mask(case, kind)
    order = np.random.default_rng(size[0]).permutation(case["k"].shape[-2])
    base = scaled_dot_product_attention_vjp(case["q"], case["k"], case["v"], case["g"], mask)
    moved = scaled_dot_product_attention_vjp(
        case["q"],
        case["k"][:, order],
        case["v"][:, order],
        case["g"],
        None if mask is None else mask[:, order],
    )
    np.testing.assert_allclose(moved.query, base.query, atol=EXACT_REPLAY)
    np.testing.assert_allclose(moved.key, base.key[:, order], atol=EXACT_REPLAY)
    np.testing.assert_allclose(moved.value, base.value[:, order], atol=EXACT_REPLAY)


def test_sdpa_vjp_grouped_query_sums_the_repeated_heads() -> None:
    """With enable_gqa, dK/dV are the per-group sums of the gradients of the repeated K/V."""
    rng = np.random.default_rng(11)
    q, g = rng.normal(size=(1, 4, 3, 2)), rng.normal(size=(1, 4, 3, 5))
    k, v = rng.normal(size=(1, 2, 6, 2)), rng.normal(size=(1, 2, 6, 5))
    grouped = scaled_dot_product_attention_vjp(q, k, v, g, enable_gqa=True)
    repeated = scaled_dot_product_attention_vjp(
        q, np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1), g
    )
    np.testing.assert_allclose(grouped.query, repeated.query, atol=EXACT_REPLAY)
    np.testing.assert_allclose(
        grouped.key, repeated.key.reshape(1, 2, 2, 6, 2).sum(axis=2), atol=EXACT_REPLAY
    )
    np.testing.assert_allclose(
        grouped.value, repeated.value.reshape(1, 2, 2, 6, 5).sum(axis=2), atol=EXACT_REPLAY
    )


def test_sdpa_vjp_names_bad_arguments() -> None:
    """A wrong upstream shape or dtype, or weights and logsumexp together, is a named error."""
    case = _case(0, 2, 3, 2, 2)
    q, k, v, g = case["q"], case["k"], case["v"], case["g"]
    with pytest.raises(ValueError, match="grad_output"):
        scaled_dot_product_attention_vjp(q, k, v, g[..., :1])
    with pytest.raises(TypeError, match="grad_output"):
        scaled_dot_product_attention_vjp(q, k, v, g.astype(np.float32))
    _, lse = scaled_dot_product_attention_forward(q, k, v)
    with pytest.raises(ValueError, match="weights or logsumexp"):
        scaled_dot_product_attention_vjp(q, k, v, g, weights=np.ones((2, 2, 3)), logsumexp=lse)
    out, _ = scaled_dot_product_attention_forward(q, k, v)
    with pytest.raises(ValueError, match=r"^output has shape"):
        scaled_dot_product_attention_vjp(q, k, v, g, logsumexp=lse, output=out[..., :1])
    with pytest.raises(TypeError, match=r"^output has dtype"):
        scaled_dot_product_attention_vjp(q, k, v, g, logsumexp=lse, output=out.astype(np.float32))
    with pytest.raises(ValueError, match=r"^each row of weights must sum to 1"):
        scaled_dot_product_attention_vjp(q, k, v, g, weights=np.full((2, 2, 3), 0.5))
    forbid = np.array([[True, True, False], [True, True, True]])
    with pytest.raises(ValueError, match=r"^weights gives nonzero weight to a position that mask"):
        scaled_dot_product_attention_vjp(q, k, v, g, forbid, weights=np.full((2, 2, 3), 1 / 3))


# --------------------------------------------------------------------------- softmax family


@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.booleans())
def test_softmax_family_vjps_match_finite_differences_and_the_jacobian(
    seed: int, n: int, masked: bool
) -> None:
    """softmax/log-softmax/LSE VJPs equal central differences; softmax's is Jᵀḡ (ex. 8-2)."""
    rng = np.random.default_rng(seed)
    s, g = rng.uniform(-3, 3, (2, n)), rng.uniform(-2, 2, (2, n))
    mask = (rng.random((2, n)) < 0.7) if masked else None
    np.testing.assert_allclose(
        softmax_vjp(s, g, mask),
        np.einsum("...ij,...i->...j", softmax_jacobian(s, mask), g),
        atol=EXACT_REPLAY,
    )
    valid = np.ones_like(s, dtype=bool) if mask is None else mask
    for vjp, forward in ((softmax_vjp, softmax), (log_softmax_vjp, log_softmax)):
        weights = np.where(valid, g, 0)  # masked log-softmax entries are −inf: no upstream there

        def loss(x: np.ndarray, f: Any = forward, w: np.ndarray = weights) -> float:
            return float((np.where(valid, f(x, mask), 0) * w).sum())

        numeric = numeric_gradient(loss, s)
        np.testing.assert_allclose(vjp(s, g, mask), np.where(valid, numeric, 0), atol=FD_TOL)
    upstream = g[:, 0]

    def lse_loss(x: np.ndarray) -> float:
        value = logsumexp(x, mask)
        return float(np.where(np.isfinite(value), value, 0) @ upstream)

    numeric = numeric_gradient(
        lse_loss,
        s,
    )
    np.testing.assert_allclose(logsumexp_vjp(s, upstream, mask), numeric, atol=FD_TOL)


def test_softmax_vjps_match_spec_lambdified() -> None:
    """softmax_vjp and log_softmax_vjp equal the spec's derived gradients (N = 4)."""
    rng = np.random.default_rng(5)
    s, g = rng.normal(size=4), rng.normal(size=4)
    for impl_vjp, expr in (
        (softmax_vjp, softmax_vjp_expr),
        (log_softmax_vjp, log_softmax_vjp_expr),
    ):
        symbols, derived = expr(4)
        expected = np.array(
            sympy.lambdify(symbols, derived, modules="numpy")(*s, *g), dtype=float
        ).ravel()
        np.testing.assert_allclose(impl_vjp(s, g), expected, atol=EXACT_REPLAY)


# --------------------------------------------------------------------------- scores, multi-head


def test_score_vjps_match_finite_differences() -> None:
    """Additive and bilinear score VJPs: inputs and parameters vs central differences (§8.2)."""
    rng = np.random.default_rng(2)
    q, k, g = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 2)), rng.normal(size=(2, 3, 5))
    add = AdditiveScoreParameters(
        W=rng.normal(size=(3, 2)), U=rng.normal(size=(3, 4)), v=rng.normal(size=3)
    )
    grads = additive_score_vjp(q, k, add, g)
    base = {"W": add.W, "U": add.U, "v": add.v}
    for name in ("W", "U", "v"):

        def loss(x: np.ndarray, name: str = name) -> float:
            return float(
                (additive_score(q, k, AdditiveScoreParameters(**{**base, name: x})) * g).sum()
            )

        np.testing.assert_allclose(
            getattr(grads, name), numeric_gradient(loss, base[name]), atol=FD_TOL
        )
    np.testing.assert_allclose(
        grads.query,
        numeric_gradient(lambda x: float((additive_score(x, k, add) * g).sum()), q),
        atol=FD_TOL,
    )
    np.testing.assert_allclose(
        grads.keys,
        numeric_gradient(lambda x: float((additive_score(q, x, add) * g).sum()), k),
        atol=FD_TOL,
    )
    bil = BilinearScoreParameters(W=rng.normal(size=(2, 4)))
    bgrads = bilinear_score_vjp(q, k, bil, g)
    np.testing.assert_allclose(
        bgrads.W,
        numeric_gradient(
            lambda x: float((bilinear_score(q, k, BilinearScoreParameters(W=x)) * g).sum()), bil.W
        ),
        atol=FD_TOL,
    )
    np.testing.assert_allclose(
        bgrads.query,
        numeric_gradient(lambda x: float((bilinear_score(x, k, bil) * g).sum()), q),
        atol=FD_TOL,
    )
    np.testing.assert_allclose(
        bgrads.keys,
        numeric_gradient(lambda x: float((bilinear_score(q, x, bil) * g).sum()), k),
        atol=FD_TOL,
    )


def _mha_parameters(
    rng: np.random.Generator, dtype: Any = np.float64
) -> TransformerAttentionParameters:
    p = TransformerAttentionParameters.initialize(rng, model_dim=6, num_heads=2, dtype=dtype)
    return TransformerAttentionParameters(
        p.W_q, p.W_k, p.W_v, p.W_o, 2, *(rng.normal(size=6).astype(dtype) for _ in range(4))
    )


def test_additive_score_vjp_saturated_tanh_is_exact_and_silent() -> None:
    """W x + U q = 1e308 + 1e308 overflows to +inf: tanh = 1 exactly, so every gradient
    through (1 − H²) is 0 and v̄ = s̄ H = s̄; no RuntimeWarning escapes the kernel."""
    params = AdditiveScoreParameters(W=np.ones((1, 1)), U=np.ones((1, 1)), v=np.ones(1))
    big = np.array([[1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grads = additive_score_vjp(big, big, params, np.array([[2.0]]))
    for zero in (grads.query, grads.keys, grads.W, grads.U):
        assert (zero == 0).all()
    assert (grads.v == 2.0).all()


def test_multi_head_vjp_matches_finite_differences() -> None:
    """Every input, projection and bias gradient of multi-head attention vs central differences."""
    rng = np.random.default_rng(4)
    p = _mha_parameters(rng)
    x, y, z, g = (
        rng.normal(size=(2, 3, 6)),
        rng.normal(size=(2, 4, 6)),
        rng.normal(size=(2, 4, 6)),
        rng.normal(size=(2, 3, 6)),
    )
    padding = np.array([[True, False, True, True], [True] * 4])
    grads = multi_head_attention_vjp(x, y, z, p, g, key_padding_mask=padding, is_causal=True)
    fields = {f: getattr(p, f) for f in ("W_q", "W_k", "W_v", "W_o", "b_q", "b_k", "b_v", "b_o")}

    def run(
        xq: np.ndarray, xk: np.ndarray, xv: np.ndarray, params: TransformerAttentionParameters
    ) -> float:
        return float(
            (
                multi_head_attention(xq, xk, xv, params, key_padding_mask=padding, is_causal=True)
                * g
            ).sum()
        )

    for name, value in fields.items():

        def loss(a: np.ndarray, name: str = name) -> float:
            changed: Any = {**fields, name: a}
            return run(x, y, z, TransformerAttentionParameters(**changed, num_heads=2))

        numeric = numeric_gradient(loss, value)
        np.testing.assert_allclose(getattr(grads, name), numeric, atol=FD_TOL)
    np.testing.assert_allclose(
        grads.query, numeric_gradient(lambda a: run(a, y, z, p), x), atol=FD_TOL
    )
    np.testing.assert_allclose(
        grads.key, numeric_gradient(lambda a: run(x, a, z, p), y), atol=FD_TOL
    )
    np.testing.assert_allclose(
        grads.value, numeric_gradient(lambda a: run(x, y, a, p), z), atol=FD_TOL
    )
    assert (grads.key[0, 1] == 0).all(), "padded key: exactly 0"
    assert (grads.value[0, 1] == 0).all(), "padded value: exactly 0"


# --------------------------------------------------------------------------- PyTorch


def _torch_sdpa_grads(
    torch: Any, q: np.ndarray, k: np.ndarray, v: np.ndarray, g: np.ndarray, mask: Any, **kw: Any
) -> list[np.ndarray]:
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    out = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=None if mask is None else torch.tensor(mask), **kw
    )
    out.backward(torch.tensor(g))
    return [t.grad.numpy() for t in (tq, tk, tv)]


TORCH_CASES = [
    ("plain L≠S, E_v≠E_k", {}, "none"),
    ("bool mask", {}, "bool"),
    ("float mask", {}, "float"),
    ("causal", {"is_causal": True}, "none"),
    ("explicit scale", {"scale": 0.3}, "none"),
    ("fully masked row", {}, "empty_row"),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("label", "options", "kind"), TORCH_CASES)
def test_sdpa_vjp_agrees_with_torch_autograd(
    dtype: Any, label: str, options: dict[str, Any], kind: str
) -> None:
    """Ours (float64) vs PyTorch autograd in ``dtype``, within the derived bound of ``dtype``."""
    torch = pytest.importorskip("torch")
    case = _case(21, 3, 5, 2, 4)
    mask: Any = None
    if kind in ("bool", "float"):
        mask = case[kind]
    elif kind == "empty_row":
        mask = case["bool"].copy()
        mask[1] = False
    q, k, v, g = (case[n].astype(dtype).astype(np.float64) for n in "qkvg")
    cast_mask = mask if mask is None or mask.dtype == bool else mask.astype(dtype)
    low = [a.astype(dtype) for a in (q, k, v, g)]
    theirs = _torch_sdpa_grads(torch, low[0], low[1], low[2], low[3], cast_mask, **options)
    scale, causal = options.get("scale"), options.get("is_causal", False)
    ours = scaled_dot_product_attention_vjp(
        q,
        k,
        v,
        g,
        None if mask is None else (mask if mask.dtype == bool else cast_mask.astype(np.float64)),
        scale=scale,
        is_causal=causal,
    )
    precision: Precision = "float64" if dtype == np.float64 else "float32"
    bound = sdpa_gradient_bound(
        q,
        k,
        v,
        g,
        None if mask is None else (mask if mask.dtype == bool else cast_mask.astype(np.float64)),
        scale=scale,
        is_causal=causal,
        enable_gqa=False,
        precision=precision,
    )
    for name, mine, other in zip(
        ("query", "key", "value"), (ours.query, ours.key, ours.value), theirs, strict=True
    ):
        assert other.dtype == dtype
        assert np.isfinite(other).all(), f"{label}: torch gave a non-finite d_{name}"
        assert (np.abs(other - mine) <= bound[name]).all(), (
            f"{label}: d_{name} outside the derived bound"
        )


def test_sdpa_vjp_grouped_query_agrees_with_torch_autograd() -> None:
    """enable_gqa: ours vs PyTorch autograd (float64), within the float64 bound."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    q, g = rng.normal(size=(2, 4, 3, 2)), rng.normal(size=(2, 4, 3, 5))
    k, v = rng.normal(size=(2, 2, 6, 2)), rng.normal(size=(2, 2, 6, 5))
    theirs = _torch_sdpa_grads(torch, q, k, v, g, None, enable_gqa=True)
    ours = scaled_dot_product_attention_vjp(q, k, v, g, enable_gqa=True)
    bound = sdpa_gradient_bound(
        q, k, v, g, None, scale=None, is_causal=False, enable_gqa=True, precision="float64"
    )
    for name, mine, other in zip(
        ("query", "key", "value"), (ours.query, ours.key, ours.value), theirs, strict=True
    ):
        assert (np.abs(other - mine) <= bound[name]).all(), name


def test_multi_head_vjp_agrees_with_torch_autograd_in_its_layout() -> None:
    """Input and parameter gradients equal ``nn.MultiheadAttention``'s, in PyTorch's layout."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    p = _mha_parameters(rng)
    x, y, z, g = (
        rng.normal(size=(2, 3, 6)),
        rng.normal(size=(2, 5, 6)),
        rng.normal(size=(2, 5, 6)),
        rng.normal(size=(2, 3, 6)),
    )
    padding = np.array([[True, True, False, True, True], [True] * 5])
    grads = multi_head_attention_vjp(x, y, z, p, g, key_padding_mask=padding)
    module = torch.nn.MultiheadAttention(6, 2, batch_first=True, dtype=torch.float64)
    state = {
        "in_proj_weight": np.concatenate([p.W_q.T, p.W_k.T, p.W_v.T]),
        "in_proj_bias": np.concatenate([p.b_q, p.b_k, p.b_v]),
        "out_proj.weight": p.W_o.T,
        "out_proj.bias": p.b_o,
    }
    module.load_state_dict({name: torch.tensor(value) for name, value in state.items()})
    tx, ty, tz = (torch.tensor(a, requires_grad=True) for a in (x, y, z))
    out, _ = module(tx, ty, tz, key_padding_mask=torch.tensor(~padding), need_weights=False)
    out.backward(torch.tensor(g))
    parameters = dict(module.named_parameters())
    # float64 on both sides; entries are O(10), sums of ≤ 50 products: γ_50·10 ≈ 6e-14 < 1e-12.
    for name, value in grads.torch_layout().items():
        np.testing.assert_allclose(value, parameters[name].grad.numpy(), atol=EXACT_REPLAY)
    for ours, theirs in ((grads.query, tx), (grads.key, ty), (grads.value, tz)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), atol=EXACT_REPLAY)


def test_sdpa_vjp_float32_stays_float32_and_within_its_bound() -> None:
    """Our float32 VJP returns float32 and stays within the float32 bound of the float64 one."""
    case = _case(8, 4, 5, 3, 2)
    q, k, v, g = (case[n].astype(np.float32) for n in "qkvg")
    mask = case["float"].astype(np.float32)
    low = scaled_dot_product_attention_vjp(q, k, v, g, mask)
    q64, k64, v64, g64 = (a.astype(np.float64) for a in (q, k, v, g))
    high = scaled_dot_product_attention_vjp(q64, k64, v64, g64, mask.astype(np.float64))
    bound = sdpa_gradient_bound(
        q64,
        k64,
        v64,
        g64,
        mask.astype(np.float64),
        scale=None,
        is_causal=False,
        enable_gqa=False,
        precision="float32",
    )
    for name in ("query", "key", "value"):
        assert getattr(low, name).dtype == np.float32
        assert (np.abs(getattr(low, name) - getattr(high, name)) <= bound[name]).all()
    assert low.mask is not None
    assert low.mask.dtype == np.float32
    assert math.isfinite(float(np.abs(low.mask).max()))
