"""spec.attention_backward: the derivations agree with the paper's formulas, and the tools can fail.

Book: §8.2–8.3; Dao et al. 2022, App. B.2. The full derivation is narrated by
``proofs.attention_backward``; these tests keep the spec's helpers honest
(each is shown to reject a wrong formula) at small listed sizes.
"""

import sympy

from spec.attention_backward import (
    attention_symbols,
    exp_free_residual,
    flatten_sums,
    masked_softmax_rows,
    matrices_agree,
    reduce_softmax_residual,
    rowsum_identity_residual,
    sdpa_forward,
    sdpa_vjp,
    sdpa_vjp_formula,
    sort_sum_limits,
    symbolic_logsumexp_vjp,
    symbolic_softmax_vjp,
)


def test_spec_softmax_vjp_symbolic_and_a_wrong_closed_form_rejected() -> None:
    """The softmax and LSE VJPs hold for symbolic N; a doubled LSE gradient is rejected."""
    derived, closed = symbolic_softmax_vjp()
    assert reduce_softmax_residual(derived - closed) == 0
    sm_derived, lse = symbolic_logsumexp_vjp()
    assert reduce_softmax_residual(sm_derived - lse) == 0
    assert reduce_softmax_residual(sm_derived - 2 * lse) != 0


def test_spec_exp_free_residual_is_exact_both_ways() -> None:
    """exp(2x) = exp(x)² cancels; exp(2x) − exp(x) does not."""
    x, y = sympy.symbols("x y", seq=True, real=True)
    assert exp_free_residual(sympy.exp(2 * x + y) - sympy.exp(x) ** 2 * sympy.exp(y)) == 0
    assert exp_free_residual(sympy.exp(2 * x) - sympy.exp(x)) != 0
    # The nonzero residual is the rational function E² − E in one positive E = exp(x):
    # no exp is left for sympy to fold (the reason the renaming exists).
    renamed = exp_free_residual(sympy.exp(2 * x) - sympy.exp(x))
    e = sympy.Symbol("E_0", positive=True)
    assert sympy.expand(renamed - (e**2 - e)) == 0


def test_spec_sdpa_vjp_equals_the_paper_and_a_dropped_rowsum_is_caught() -> None:
    """At (L, S, D, E) = (1, 2, 1, 1): derived dQ = the paper's; dS without the rowsum term ≠."""
    sym = attention_symbols(1, 2, 1, 1)
    derived, paper = sdpa_vjp(sym), sdpa_vjp_formula(sym)
    assert all(matrices_agree(derived[k], paper[k]) for k in derived)
    no_rowsum = (
        sym.scale
        * sympy.Matrix(1, 2, lambda i, n: sdpa_forward(sym)[1][i, n] * (sym.G @ sym.V.T)[i, n])
        @ sym.K
    )
    assert not matrices_agree(derived["query"], no_rowsum)


def test_spec_fully_masked_row_is_zero_by_definition() -> None:
    """masked_softmax_rows gives an all-zero row where nothing is allowed."""
    s = sympy.Matrix([[sympy.Symbol("a"), sympy.Symbol("b")]])
    assert masked_softmax_rows(s, [[False, False]]) == sympy.zeros(1, 2)


def test_spec_rowsum_identity_needs_the_sum_exchange() -> None:
    """The identity's residual is 0 after linearity and sum exchange (and the helpers act)."""
    assert rowsum_identity_residual() == 0
    i, j = sympy.symbols("i j", seq=True, integer=True)
    f = sympy.Function("f")
    nested = sympy.Sum(sympy.Symbol("c") * sympy.Sum(f(i, j), (j, 0, 2)), (i, 0, 3))
    flat = flatten_sums(nested)
    assert isinstance(flat, sympy.Sum)
    assert len(flat.limits) == 2
    ordered = sort_sum_limits(flat)
    assert isinstance(ordered, sympy.Sum)
    assert [str(limit[0]) for limit in ordered.limits] == ["i", "j"]
