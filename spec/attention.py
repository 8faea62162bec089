"""Symbolic attention: soft attention as an expectation, multi-head, REINFORCE.

Book: §8.2 (attention distribution, soft attention = E_{z∼α}[x_z]), §8.2.1
(hard attention trained by reinforcement learning, key-value attention,
multi-head attention) and §8.3 (the query–key–value form). The twin of
``impl.attention`` and ``impl.multihead``.

Expectations over the attention variable z are computed by ``sympy.stats``
from a finite random variable z with P(z = n) = α_n: ``E(Piecewise((f_0,
Eq(z, 0)), …))`` sums over the distribution, so the identity soft attention =
E[x_z] is derived, not assumed. Gradients are ``sympy.diff``. Matrices follow
impl's row convention: inputs/keys/values are N×D (row n is the book's column
x_n), a query is a column vector of the score functions in ``spec.scores``.
Sizes are concrete (N, D small) except in ``symbolic_reinforce``, which is for
a symbolic N.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import sympy
import sympy.stats as stats

from spec.scores import scaled_dot_product_score, symbol_matrix
from spec.softmax import logit_symbols, softmax, symbolic_softmax

SymbolicScore = Callable[[sympy.MatrixBase, sympy.MatrixBase], sympy.Expr]
"""``score(x (column D_k), q (column D_q)) -> scalar``, e.g. ``spec.scores.dot_product_score``."""


def attention_variable(scores: Sequence[sympy.Expr], name: str = "z") -> sympy.Expr:
    """The attention variable z ∈ {0, …, N−1} with P(z = n) = softmax_n(scores).

    Book: §8.2, α_n = p(z = n | X, q). A ``sympy.stats.FiniteRV``; the weights
    are symbolic, so sympy's sum-to-one check is skipped (``softmax`` sums to 1,
    which ``spec.softmax.weights_total`` derives).
    """
    alpha = softmax(scores)
    return stats.FiniteRV(name, {n: alpha[n] for n in range(len(scores))}, check=False)


def expectation_over_attention(
    scores: Sequence[sympy.Expr], outcomes: Sequence[sympy.Expr]
) -> sympy.Expr:
    """E_{z∼α}[f(z)] with f(n) = outcomes[n], computed by ``sympy.stats.E``."""
    if len(scores) != len(outcomes):
        raise ValueError(f"{len(scores)} scores but {len(outcomes)} outcomes")
    z = attention_variable(scores)
    last = len(outcomes) - 1
    branches = [(outcomes[n], sympy.Eq(z, n)) for n in range(last)]
    selected = sympy.Piecewise(*branches, (outcomes[last], True))
    return stats.E(selected)


def scores_against(
    query: sympy.MatrixBase, keys: sympy.MatrixBase, score: SymbolicScore
) -> list[sympy.Expr]:
    """[s(k_n, q) for each row k_n of ``keys``] (keys N×D, query a column)."""
    return [score(keys.row(n).T, query) for n in range(keys.rows)]


def soft_attention(
    query: sympy.MatrixBase,
    inputs: sympy.MatrixBase,
    score: SymbolicScore = scaled_dot_product_score,
) -> sympy.MatrixBase:
    """Soft attention Σ_n α_n x_n as a 1×D row (Book: §8.2, soft attention)."""
    alpha = softmax(scores_against(query, inputs, score))
    return alpha.T @ inputs


def expected_input(
    query: sympy.MatrixBase,
    inputs: sympy.MatrixBase,
    score: SymbolicScore = scaled_dot_product_score,
) -> sympy.MatrixBase:
    """E_{z∼α}[x_z] as a 1×D row, each component by ``sympy.stats.E`` over z."""
    scores = scores_against(query, inputs, score)
    return sympy.Matrix(
        [[expectation_over_attention(scores, list(inputs.col(d))) for d in range(inputs.cols)]]
    )


def key_value_attention(
    query: sympy.MatrixBase,
    keys: sympy.MatrixBase,
    values: sympy.MatrixBase,
    score: SymbolicScore = scaled_dot_product_score,
) -> sympy.MatrixBase:
    """Key-value attention Σ_n softmax_n(s(k_n, q)) v_n as a 1×D_v row (Book: §8.2.1)."""
    if keys.rows != values.rows:
        raise ValueError(f"keys has {keys.rows} rows, values has {values.rows}")
    alpha = softmax(scores_against(query, keys, score))
    return alpha.T @ values


def book_multi_head_attention(
    queries: sympy.MatrixBase,
    keys: sympy.MatrixBase,
    values: sympy.MatrixBase,
    score: SymbolicScore = scaled_dot_product_score,
) -> sympy.MatrixBase:
    """Book-form multi-head attention ⊕_m att((K,V), q_m) as a 1×(M·D_v) row.

    Book: §8.2.1, multi-head attention. ``queries`` is M×D_q (row m = q_m);
    the per-query results are concatenated in query order.
    """
    pieces = [
        key_value_attention(queries.row(m).T, keys, values, score) for m in range(queries.rows)
    ]
    return sympy.Matrix([[entry for piece in pieces for entry in piece]])


@dataclass(frozen=True)
class AttentionSymbols:
    """Symbols for M queries (M×D_k), N keys (N×D_k) and N values (N×D_v)."""

    queries: sympy.MatrixBase
    keys: sympy.MatrixBase
    values: sympy.MatrixBase


def attention_symbols(
    num_queries: int, num_keys: int, key_dim: int, value_dim: int
) -> AttentionSymbols:
    """Fresh real symbols; flattened row-major they match NumPy arrays' ``ravel()``."""
    return AttentionSymbols(
        queries=symbol_matrix("q", num_queries, key_dim),
        keys=symbol_matrix("k", num_keys, key_dim),
        values=symbol_matrix("v", num_keys, value_dim),
    )


# ---------------------------------------------------------------------------
# REINFORCE (hard attention trained by reinforcement learning, §8.2.1)
# ---------------------------------------------------------------------------


def loss_symbols(size: int) -> tuple[sympy.Symbol, ...]:
    """Real symbols L_0, …, L_{N−1}: L_n = L(x_n), the loss if input n is selected."""
    return logit_symbols(size, "L")


def expected_loss(scores: Sequence[sympy.Expr], losses: Sequence[sympy.Expr]) -> sympy.Expr:
    """E_{z∼softmax(s)}[L_z], by ``sympy.stats.E`` over z."""
    return expectation_over_attention(scores, losses)


@dataclass(frozen=True)
class ReinforceIdentity:
    """Both sides of ∇_s E[L_z] = E[L_z ∇_s log α_z] and the closed form, for concrete N."""

    scores: tuple[sympy.Symbol, ...]
    losses: tuple[sympy.Symbol, ...]
    exact_gradient: sympy.MatrixBase
    """Column ∂/∂s_j E[L_z], by differentiating ``expected_loss``."""
    score_function_gradient: sympy.MatrixBase
    """Column E[L_z ∂/∂s_j log α_z], the expectation by sympy.stats."""
    closed_form: sympy.MatrixBase
    """Column α_j (L_j − Σ_n α_n L_n) (the claim)."""


@cache
def reinforce_identity(size: int) -> ReinforceIdentity:
    """Derive both sides of the REINFORCE identity for N = ``size`` logits s and losses L."""
    s = logit_symbols(size)
    losses = loss_symbols(size)
    log_alpha = [sympy.expand_log(sympy.log(a), force=True) for a in softmax(s)]
    exact = sympy.Matrix([sympy.diff(expected_loss(s, losses), s_j) for s_j in s])
    estimator = sympy.Matrix(
        [
            expectation_over_attention(
                s, [losses[n] * sympy.diff(log_alpha[n], s_j) for n in range(size)]
            )
            for s_j in s
        ]
    )
    return ReinforceIdentity(s, losses, exact, estimator, expected_loss_gradient(s, losses))


def expected_loss_gradient(
    scores: Sequence[sympy.Expr], losses: Sequence[sympy.Expr]
) -> sympy.MatrixBase:
    """Closed form ∂/∂s_j E[L] = α_j (L_j − Σ_n α_n L_n) as a column (the claim checked)."""
    alpha = softmax(scores)
    mean_loss = sum((a * loss for a, loss in zip(alpha, losses, strict=True)), sympy.S.Zero)
    return sympy.Matrix([alpha[j] * (losses[j] - mean_loss) for j in range(len(scores))])


@dataclass(frozen=True)
class SymbolicReinforce:
    """The REINFORCE identity for symbolic N (logits s, losses L IndexedBases, index k)."""

    exact_gradient: sympy.Expr
    """∂/∂s[k] Σ_n α_n L[n], differentiated by sympy."""
    score_function_gradient: sympy.Expr
    """Σ_n α_n L[n] ∂/∂s[k] log α_n (the expectation over z ∼ α written as its sum)."""
    via_jacobian: sympy.Expr
    """Σ_n α_n L[n] (δ_nk − α_k), using ∂ log α_n/∂s_k = δ_nk − α_k."""
    closed_form: sympy.Expr
    """α_k (L[k] − Σ_n α_n L[n])."""


@cache
def symbolic_reinforce() -> SymbolicReinforce:
    """The REINFORCE identity and its closed form for a symbolic number of inputs N."""
    sm = symbolic_softmax()
    losses = sympy.IndexedBase("L", real=True)
    n = sympy.Idx("n", sm.size)
    k = sm.k
    expected = sympy.Sum(sm.weight(n) * losses[n], (n, 0, sm.size - 1))
    exact = sm.in_range(sympy.diff(expected, sm.logits[k]).doit())
    d_log = sm.in_range(sympy.diff(sm.log_weight(n), sm.logits[k]).doit())
    score_function = sympy.Sum(sm.weight(n) * losses[n] * d_log, (n, 0, sm.size - 1))
    jacobian_form = sympy.Sum(
        sm.weight(n) * losses[n] * (sympy.KroneckerDelta(n, k) - sm.weight(k)),
        (n, 0, sm.size - 1),
    )
    closed = sm.weight(k) * (losses[k] - expected)
    return SymbolicReinforce(
        exact, sm.in_range(score_function.doit()), sm.in_range(jacobian_form.doit()), closed
    )
