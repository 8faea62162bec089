"""spec.rounding_error's derivations join impl.testing.bounds' numbers (the kit's tolerances)."""

import numpy as np
import pytest
import sympy

from impl.testing.bounds import Arithmetic, attention_output_bound, softmax_relative_bound
from spec.rounding_error import (
    attention_output_error,
    gamma,
    recursive_dot,
    rounding_factors,
    shifted_softmax_ratio,
    softmax_ratio_bounds,
)


@pytest.mark.parametrize("n", range(1, 7))
def test_kit_spec_dot_product_has_at_most_n_roundings_per_term(n: int) -> None:
    """Each a_i b_i of a recursively summed dot product carries ≤ n factors (1 + δ): γ_n."""
    a, b, deltas, computed = recursive_dot(n)
    # The standard model's data and δs are real numbers: each is the real symbol of its name.
    assert all(x == sympy.Symbol(x.name, real=True) for x in (*a, *b, *deltas))
    counts = [rounding_factors(computed, a[i] * b[i], deltas) for i in range(n)]
    assert max(counts) == n
    assert (
        sympy.expand(
            computed.subs(dict.fromkeys(deltas, 0)) - sum(x * y for x, y in zip(a, b, strict=True))
        )
        == 0
    )


def test_kit_spec_softmax_shift_cancels() -> None:
    """The shift by the maximum cancels from p̂_j / p_j (only Δ, ε, θ, δ and s remain)."""
    names, ratio = shifted_softmax_ratio(3, 1)
    assert sympy.Symbol("M", positive=True) not in ratio.free_symbols
    # Scores and every error (Δ, ε, θ, δ) are real numbers: real symbols of their names.
    assert all(x == sympy.Symbol(x.name, real=True) for xs in names.values() for x in xs)
    unperturbed = {x: 0 for key in ("Delta", "eps", "theta", "delta") for x in names[key]}
    assert sympy.simplify(ratio.subs(unperturbed) - 1) == 0


def test_kit_spec_softmax_ratio_within_bounds_and_matches_impl() -> None:
    """Random perturbations in the box keep p̂_j / p_j within the derived bounds, and those
    bounds are what impl.testing.bounds evaluates (float32 constants)."""
    rng = np.random.default_rng(1)
    arith = Arithmetic.of("bfloat16")  # large u: the perturbations are visible
    n = 3
    names, _ = shifted_softmax_ratio(n, 0)
    for _ in range(6):
        s = rng.uniform(-3, 3, n)
        e = rng.uniform(0, 0.05, n)
        p = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
        r = softmax_relative_bound(s, p, e, arith)
        spread = np.abs(s - s.max())
        a = e + arith.u * (spread + e + e.max())
        g_sum, g_div = arith.gamma(n - 1), arith.gamma(2)
        for j in range(n):
            lower, upper = softmax_ratio_bounds(
                [sympy.Float(x) for x in p], [sympy.Float(x) for x in a],
                sympy.Float(arith.u_elementary), sympy.Float(g_sum), sympy.Float(g_div), j,
            )  # fmt: skip
            assert max(float(upper - 1), float(1 - lower)) == pytest.approx(r[j], rel=1e-9)
            _, ratio = shifted_softmax_ratio(n, j)
            for _ in range(4):
                point = {
                    x: float(rng.uniform(-1, 1) * ak)
                    for x, ak in zip(names["Delta"], a, strict=True)
                }
                point |= {x: float(rng.uniform(-1, 1) * arith.u_elementary) for x in names["eps"]}
                point |= {x: float(rng.uniform(-1, 1) * g_sum) for x in names["theta"]}
                point |= {names["delta"][0]: float(rng.uniform(-1, 1) * g_div)}
                point |= {x: float(v) for x, v in zip(names["s"], s, strict=True)}
                value = float(ratio.subs(point))
                assert float(lower) <= value <= float(upper)


def test_kit_spec_attention_output_error_matches_impl() -> None:
    """attention_output_bound is the spec's expression (plus the underflow floor)."""
    rng = np.random.default_rng(2)
    arith = Arithmetic.of("float32")
    p = rng.dirichlet(np.ones(4))[None, :]
    r = rng.uniform(0, 1e-5, (1, 4))
    v = rng.normal(size=(4, 1))
    dv = rng.uniform(0, 1e-6, (4, 1))
    ours = attention_output_bound(p, r, v, arith, value_error=dv)[0, 0] - arith.underflow
    g = gamma(5, sympy.Float(arith.u))
    spec = attention_output_error(
        [sympy.Float(x) for x in p[0]], [sympy.Float(x) for x in r[0]],
        [sympy.Float(x) for x in v[:, 0]], [sympy.Float(x) for x in dv[:, 0]], g,
    )  # fmt: skip
    assert float(spec) == pytest.approx(ours, rel=1e-12)
