"""Backward passes of softmax and attention, derived by differentiating the definitions.

Book: §8.2 (attention distribution α = softmax(s), score functions), §8.2.1
(multi-head attention), §8.3 (softmax(QKᵀ/√D_k)V); trained by
backpropagation (§4.4). The twin of ``impl.attention_backward``.

Every gradient here is what ``sympy.diff`` returns for the scalar loss
ℓ = ⟨Ḡ, forward(…)⟩ (Ḡ the upstream gradient): nothing is typed in as an
answer. The closed forms from the literature (the "paper" formulas
dV = Pᵀ dO, dS = P ∘ (dP − rowsum(dP ∘ P)), …, as FlashAttention,
Dao et al. 2022, Appendix B.2, writes them) are stated separately by the
``*_formula`` functions, to be compared with the derivations.

Two kinds of size:

* **symbolic**: ``symbolic_*`` work over an IndexedBase with symbolic sizes
  N (softmax) or L, S, D, E (attention) — sympy carries the index sums,
  KroneckerDelta collapses them. Available for the softmax family, the
  value gradient dV, and the identity rowsum(dP ∘ P) = rowsum(dO ∘ O).
* **finite**: the other attention gradients (dQ, dK, dS, the float-mask
  gradient, masks, scores, multi-head) at listed small sizes with symbol
  matrices; ``exp`` of the (expanded) scores is replaced by positive symbols,
  so a residual is a rational function whose zero test (``cancel``) is exact.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import sympy

from spec.scores import symbol_matrix, symbol_vector
from spec.softmax import SymbolicSoftmax, logit_symbols, softmax, symbolic_softmax

# ---------------------------------------------------------------------------
# Softmax, log-softmax, log-sum-exp: symbolic N
# ---------------------------------------------------------------------------

UPSTREAM = sympy.IndexedBase("g", real=True)
"""The upstream gradient ḡ of the softmax family (symbolic N)."""


def _vjp_of(sm: SymbolicSoftmax, per_index: Callable[[sympy.Expr], sympy.Expr]) -> sympy.Expr:
    """∂/∂s[k] of ℓ = Σ_i ḡ_i f_i(s) for f = ``per_index`` (differentiated by sympy)."""
    loss = sympy.Sum(UPSTREAM[sm.i] * per_index(sm.i), (sm.i, 0, sm.size - 1))
    return sympy.diff(loss, sm.logits[sm.k])


def symbolic_softmax_vjp() -> tuple[sympy.Expr, sympy.Expr]:
    """(derived s̄_k = ∂/∂s_k Σ_i ḡ_i α_i, the closed form α_k (ḡ_k − Σ_i α_i ḡ_i))."""
    sm = symbolic_softmax()
    derived = _vjp_of(sm, sm.weight)
    mean = sympy.Sum(sm.weight(sm.i) * UPSTREAM[sm.i], (sm.i, 0, sm.size - 1))
    return derived, sm.weight(sm.k) * (UPSTREAM[sm.k] - mean)


def symbolic_log_softmax_vjp() -> tuple[sympy.Expr, sympy.Expr]:
    """(derived ∂/∂s_k Σ_i ḡ_i log α_i, the closed form ḡ_k − α_k Σ_i ḡ_i)."""
    sm = symbolic_softmax()
    derived = _vjp_of(sm, sm.log_weight)
    total = sympy.Sum(UPSTREAM[sm.i], (sm.i, 0, sm.size - 1))
    return derived, UPSTREAM[sm.k] - sm.weight(sm.k) * total


def symbolic_logsumexp_vjp() -> tuple[sympy.Expr, sympy.Expr]:
    """(derived ∂/∂s_k log Σ_j exp(s_j), the closed form α_k)."""
    sm = symbolic_softmax()
    derived: sympy.Expr = sympy.diff(sympy.log(sm.partition), sm.logits[sm.k])
    return derived, sm.weight(sm.k)


def reduce_softmax_residual(residual: sympy.Expr) -> sympy.Expr:
    """Reduce a symbolic-N residual (doit, index ranges, renaming; ``SymbolicSoftmax.reduce``)."""
    return symbolic_softmax().reduce(residual)


# ---------------------------------------------------------------------------
# Softmax family: concrete N (for lambdify)
# ---------------------------------------------------------------------------


def _gradient(loss: sympy.Expr, variables: Sequence[sympy.Expr]) -> sympy.MatrixBase:
    return sympy.Matrix([sympy.diff(loss, v) for v in variables])


@cache
def softmax_vjp_expr(size: int) -> tuple[tuple[sympy.Symbol, ...], sympy.MatrixBase]:
    """((s_0…, g_0…), ∂/∂s ⟨ḡ, softmax(s)⟩) for N = ``size``, derived by diff, for lambdify."""
    s, g = logit_symbols(size), logit_symbols(size, "g")
    alpha = softmax(s)
    loss = sum((gi * ai for gi, ai in zip(g, alpha, strict=True)), sympy.S.Zero)
    return (*s, *g), _gradient(loss, s)


@cache
def log_softmax_vjp_expr(size: int) -> tuple[tuple[sympy.Symbol, ...], sympy.MatrixBase]:
    """((s…, g…), ∂/∂s ⟨ḡ, log softmax(s)⟩) for N = ``size``, derived by diff."""
    s, g = logit_symbols(size), logit_symbols(size, "g")
    partition = sum((sympy.exp(x) for x in s), sympy.S.Zero)
    loss = sum(
        (gi * (si - sympy.log(partition)) for gi, si in zip(g, s, strict=True)), sympy.S.Zero
    )
    return (*s, *g), _gradient(loss, s)


# ---------------------------------------------------------------------------
# Attention at symbolic sizes (IndexedBase over L, S, D, E)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SymbolicAttention:
    """O = softmax(c·QKᵀ)V for symbolic L, S, D (=E_k) and E (=E_v), row by row.

    P[row, n] = exp(c Σ_d Q[row,d] K[n,d]) / Σ_m exp(c Σ_d Q[row,d] K[m,d]),
    O[row, e] = Σ_n P[row, n] V[n, e], ℓ = Σ_l Σ_e G[row, e] O[row, e].
    """

    sizes: dict[sympy.Idx, sympy.Symbol]
    Q: sympy.IndexedBase
    K: sympy.IndexedBase
    V: sympy.IndexedBase
    G: sympy.IndexedBase
    scale: sympy.Symbol
    row: sympy.Idx
    n: sympy.Idx
    m: sympy.Idx
    d: sympy.Idx
    e: sympy.Idx
    r: sympy.Idx
    f: sympy.Idx

    def score(self, row: sympy.Expr, n: sympy.Expr) -> sympy.Expr:
        """c Σ_d Q[row, d] K[n, d]."""
        D = self.sizes[self.d]
        return self.scale * sympy.Sum(self.Q[row, self.d] * self.K[n, self.d], (self.d, 0, D - 1))

    def weight(self, row: sympy.Expr, n: sympy.Expr) -> sympy.Expr:
        """P[row, n] (the softmax over the memory axis)."""
        S = self.sizes[self.m]
        partition = sympy.Sum(sympy.exp(self.score(row, self.m)), (self.m, 0, S - 1))
        return sympy.exp(self.score(row, n)) / partition

    def output(self, row: sympy.Expr, e: sympy.Expr) -> sympy.Expr:
        """O[row, e] = Σ_n P[row, n] V[n, e]."""
        S = self.sizes[self.n]
        return sympy.Sum(self.weight(row, self.n) * self.V[self.n, e], (self.n, 0, S - 1))

    def loss(self) -> sympy.Expr:
        """ℓ = Σ_{row, e} G[row, e] O[row, e]."""
        L, E = self.sizes[self.row], self.sizes[self.e]
        inner = sympy.Sum(
            self.G[self.row, self.e] * self.output(self.row, self.e), (self.e, 0, E - 1)
        )
        return sympy.Sum(inner, (self.row, 0, L - 1))

    def weight_gradient(self, row: sympy.Expr, n: sympy.Expr) -> sympy.Expr:
        """dP[row, n] = Σ_e G[row, e] V[n, e] (the paper's dO Vᵀ)."""
        E = self.sizes[self.e]
        return sympy.Sum(self.G[row, self.e] * self.V[n, self.e], (self.e, 0, E - 1))

    def resolve(self, expr: sympy.Expr) -> sympy.Expr:
        """doit, then drop range conditions that hold because each index lies in its range.

        ``Sum(δ(n, r) f(n), (n, 0, S − 1)).doit()`` is ``Piecewise((f(r), S ≥ r + 1), (0,
        True))``. With r an index of range 0..S−1 the first condition holds; it is
        decided by substituting S = p + 1 + x (p the index, x ≥ 0) and simplifying.
        """
        extra = sympy.Symbol("x_extra", integer=True, nonnegative=True)

        def holds(condition: sympy.Basic) -> bool:
            if condition == sympy.true:
                return True
            present = [i for i in condition.atoms(sympy.Idx) if i in self.sizes]
            if len({self.sizes[i] for i in present}) != len(present):
                return False
            plain = {i: sympy.Symbol(f"p_{i}", integer=True, nonnegative=True) for i in present}
            sizes = {self.sizes[i]: plain[i] + 1 + extra for i in present}
            decided = sympy.simplify(condition.xreplace(plain).subs(sizes))
            return bool(decided == sympy.true)

        def pick(piecewise: sympy.Basic) -> sympy.Basic:
            for branch in piecewise.args:
                value, condition = branch.args
                if holds(condition):
                    return value
            return piecewise

        for _ in range(8):
            done = sympy.sympify(expr).doit()
            new: sympy.Expr = done.replace(lambda x: isinstance(x, sympy.Piecewise), pick)
            if new == expr:
                break
            expr = new
        return expr


@cache
def symbolic_attention() -> SymbolicAttention:
    """The symbolic-size attention (L, S, D, E positive integers, c > 0 the scale)."""
    L, S, D, E = (sympy.Symbol(name, integer=True, positive=True) for name in "LSDE")
    row, n, m, d, e = (sympy.Idx(a, size) for a, size in zip("lnmde", (L, S, S, D, E), strict=True))
    r, f = sympy.Idx("r", S), sympy.Idx("f", E)
    sizes = {row: L, n: S, m: S, d: D, e: E, r: S, f: E}
    Q, K, V, G = (sympy.IndexedBase(name, real=True) for name in ("Q", "K", "V", "G"))
    return SymbolicAttention(
        sizes, Q, K, V, G, sympy.Symbol("c", positive=True), row, n, m, d, e, r, f
    )


def symbolic_value_gradient() -> tuple[sympy.Expr, sympy.Expr]:
    """(derived ∂ℓ/∂V[r, f] at symbolic sizes, the paper's (Pᵀ dO)[r, f] = Σ_l P[l, r] G[l, f])."""
    at = symbolic_attention()
    derived = at.resolve(sympy.diff(at.loss(), at.V[at.r, at.f]))
    L = at.sizes[at.row]
    paper = sympy.Sum(at.weight(at.row, at.r) * at.G[at.row, at.f], (at.row, 0, L - 1))
    return derived, paper


def flatten_sums(expr: sympy.Expr) -> sympy.Expr:
    """Linearity: Σ_a (x · Σ_b y) → Σ_{b, a} x·y when x does not involve b.

    Applied to every single-limit sum whose summand is a product holding one
    inner ``Sum`` factor; the inner limits go first.
    """

    def nested(x: sympy.Basic) -> bool:
        if not isinstance(x, sympy.Sum):
            return False
        inner = [u for u in sympy.Mul.make_args(x.function) if isinstance(u, sympy.Sum)]
        if len(inner) != 1:
            return False
        rest = [u for u in sympy.Mul.make_args(x.function) if u is not inner[0]]
        bound = {limit[0] for limit in inner[0].limits}
        return not any(u.has(b) for u in rest for b in bound)

    def merge(x: sympy.Basic) -> sympy.Basic:
        assert isinstance(x, sympy.Sum)
        factors = sympy.Mul.make_args(x.function)
        inner = next(u for u in factors if isinstance(u, sympy.Sum))
        rest = sympy.Mul(*(u for u in factors if u is not inner))
        return sympy.Sum(rest * inner.function, *inner.limits, *x.limits)

    return expr.replace(nested, merge)


def sort_sum_limits(expr: sympy.Expr) -> sympy.Expr:
    """Exchange of finite sums (Fubini): order the limits of every multiple sum by index name.

    Valid when no limit depends on another index (all ours run 0..size−1).
    """

    def multiple(x: sympy.Basic) -> bool:
        return isinstance(x, sympy.Sum) and len(x.limits) > 1

    def ordered(x: sympy.Basic) -> sympy.Basic:
        assert isinstance(x, sympy.Sum)
        limits = sorted(x.limits, key=lambda limit: str(limit[0]))
        return sympy.Sum(x.function, *limits)

    return expr.replace(multiple, ordered)


def symbolic_rowsum_identity() -> tuple[sympy.Expr, sympy.Expr]:
    """(rowsum(dP ∘ P)[l] = Σ_n dP[l,n] P[l,n], rowsum(dO ∘ O)[l] = Σ_e G[l,e] O[l,e]).

    The identity that lets a kernel avoid storing P (FlashAttention's D_i);
    ``rowsum_identity_residual`` reduces the difference by linearity and the
    exchange of finite sums.
    """
    at = symbolic_attention()
    S, E = at.sizes[at.n], at.sizes[at.e]
    lhs = sympy.Sum(at.weight_gradient(at.row, at.n) * at.weight(at.row, at.n), (at.n, 0, S - 1))
    rhs = sympy.Sum(at.G[at.row, at.e] * at.output(at.row, at.e), (at.e, 0, E - 1))
    return lhs, rhs


def rowsum_identity_residual() -> sympy.Expr:
    """rowsum(dP ∘ P) − rowsum(dO ∘ O) after linearity and sum exchange (0 if it holds)."""
    lhs, rhs = symbolic_rowsum_identity()

    def canonical(x: sympy.Expr) -> sympy.Expr:
        return sort_sum_limits(flatten_sums(x))

    return sympy.expand(canonical(lhs) - canonical(rhs))


# ---------------------------------------------------------------------------
# Attention at listed sizes (symbol matrices)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AttentionSymbols:
    """Symbol matrices Q (L×D), K (S×D), V (S×E), Ḡ (L×E), an additive mask M (L×S), scale c."""

    Q: sympy.MatrixBase
    K: sympy.MatrixBase
    V: sympy.MatrixBase
    G: sympy.MatrixBase
    M: sympy.MatrixBase
    scale: sympy.Symbol

    def arguments(self, *, with_mask: bool = False) -> tuple[sympy.Symbol, ...]:
        """Flattened (row-major) Q, K, V, Ḡ (and M) entries, then c: the lambdify argument list."""
        mats = (self.Q, self.K, self.V, self.G, *((self.M,) if with_mask else ()))
        return (*(x for mat in mats for x in mat), self.scale)


@cache
def attention_symbols(L: int, S: int, D: int, E: int) -> AttentionSymbols:
    """Symbols for listed sizes L queries, S keys, D key width, E value width."""
    for name, size in (("L", L), ("S", S), ("D", D), ("E", E)):
        if not 1 <= size <= 4:
            raise ValueError(f"{name} must be in 1..4 (finite sizes kept small), got {size}")
    return AttentionSymbols(
        Q=symbol_matrix("q", L, D),
        K=symbol_matrix("k", S, D),
        V=symbol_matrix("v", S, E),
        G=symbol_matrix("g", L, E),
        M=symbol_matrix("mask", L, S),
        scale=sympy.Symbol("c", positive=True),
    )


def masked_softmax_rows(
    scores: sympy.MatrixBase, allowed: Sequence[Sequence[bool]]
) -> sympy.MatrixBase:
    """Row softmax over the allowed entries: P_ln = [allowed] e^{S_ln} / Σ_allowed e^{S_lm}.

    The definition of a boolean mask (masked entries take no part); a row with
    no allowed entry is defined as all zeros (the convention: output 0).
    """
    rows = []
    for row, allow in enumerate(allowed):
        exps = [sympy.exp(scores[row, n]) if ok else sympy.S.Zero for n, ok in enumerate(allow)]
        total = sum(exps, sympy.S.Zero)
        rows.append([x / total if total != 0 else sympy.S.Zero for x in exps])
    return sympy.Matrix(rows)


def sdpa_forward(
    sym: AttentionSymbols,
    *,
    allowed: Sequence[Sequence[bool]] | None = None,
    additive: bool = False,
) -> tuple[sympy.MatrixBase, sympy.MatrixBase]:
    """(O, P) with S = c·QKᵀ (+ M if ``additive``), P = masked row softmax of S, O = P V."""
    scores = sym.Q @ sym.K.T * sym.scale
    if additive:
        scores = scores + sym.M
    grid = allowed if allowed is not None else [[True] * sym.K.rows for _ in range(sym.Q.rows)]
    weights = masked_softmax_rows(scores, grid)
    return weights @ sym.V, weights


def _matrix_gradient(loss: sympy.Expr, variables: sympy.MatrixBase) -> sympy.MatrixBase:
    return variables.applyfunc(lambda v: sympy.diff(loss, v))


def sdpa_vjp(
    sym: AttentionSymbols,
    *,
    allowed: Sequence[Sequence[bool]] | None = None,
    additive: bool = False,
) -> dict[str, sympy.MatrixBase]:
    """Gradients of ℓ = ⟨Ḡ, O⟩ with respect to Q, K, V (and M), each derived by sympy.diff."""
    output, _ = sdpa_forward(sym, allowed=allowed, additive=additive)
    loss = sum((g * o for g, o in zip(sym.G, output, strict=True)), sympy.S.Zero)
    grads = {
        "query": _matrix_gradient(loss, sym.Q),
        "key": _matrix_gradient(loss, sym.K),
        "value": _matrix_gradient(loss, sym.V),
    }
    if additive:
        grads["mask"] = _matrix_gradient(loss, sym.M)
    return grads


def sdpa_vjp_formula(
    sym: AttentionSymbols,
    *,
    allowed: Sequence[Sequence[bool]] | None = None,
    additive: bool = False,
    from_output: bool = False,
) -> dict[str, sympy.MatrixBase]:
    """The paper's backward (Dao et al. 2022, App. B.2), typed from the paper.

    dV = Pᵀ dO, dP = dO Vᵀ, δ = rowsum(dP ∘ P) (or rowsum(dO ∘ O) if
    ``from_output``), dS = P ∘ (dP − δ), dQ = c·dS K, dK = c·dSᵀ Q, dM = dS.
    """
    output, P = sdpa_forward(sym, allowed=allowed, additive=additive)
    G = sym.G
    dV = P.T @ G
    dP = G @ sym.V.T
    if from_output:
        delta = [
            sum((G[i, e] * output[i, e] for e in range(G.cols)), sympy.S.Zero)
            for i in range(G.rows)
        ]
    else:
        delta = [
            sum((dP[i, n] * P[i, n] for n in range(P.cols)), sympy.S.Zero) for i in range(P.rows)
        ]
    dS = sympy.Matrix(P.rows, P.cols, lambda i, n: P[i, n] * (dP[i, n] - delta[i]))
    grads = {"query": sym.scale * dS @ sym.K, "key": sym.scale * dS.T @ sym.Q, "value": dV}
    if additive:
        grads["mask"] = dS
    return grads


def exp_free_residual(residual: sympy.Expr) -> sympy.Expr:
    """An exact zero test for residuals built from exponentials of polynomials.

    Every ``exp(Σ_t a_t m_t)`` (m_t monomials, a_t rational) is replaced by
    ``Π_t E(m_t)^{a_t}``, one positive symbol E(m) per monomial: this is the
    identity exp(Σ a m) = Π exp(m)^a with exp(m) renamed, so the result is a
    rational function whose ``cancel`` is 0 exactly when the residual is 0.
    (The symbols are needed because sympy folds exp(m)**2 back into exp(2m).)
    """
    names: dict[sympy.Expr, sympy.Symbol] = {}

    def rename(x: sympy.Basic) -> sympy.Expr:
        product: sympy.Expr = sympy.S.One
        exponent = x.args[0]
        if not isinstance(exponent, sympy.Expr):  # the argument of exp is an expression
            raise TypeError(f"exp of a non-expression: {x}")
        for term in sympy.Add.make_args(sympy.expand(exponent)):
            coefficient, monomial = term.as_coeff_Mul()
            symbol = names.setdefault(monomial, sympy.Symbol(f"E_{len(names)}", positive=True))
            product = product * symbol**coefficient
        return product

    renamed = sympy.sympify(residual).replace(
        lambda x: getattr(x, "func", None) == sympy.exp, rename
    )
    return sympy.cancel(sympy.together(renamed))


def matrices_agree(a: sympy.MatrixBase, b: sympy.MatrixBase) -> bool:
    """Every entry of a − b reduces to 0 under ``exp_free_residual``."""
    return a.shape == b.shape and all(
        exp_free_residual(x - y) == 0 for x, y in zip(a, b, strict=True)
    )


@cache
def sdpa_vjp_expr(
    L: int,
    S: int,
    D: int,
    E: int,
    allowed: tuple[tuple[bool, ...], ...] | None = None,
    additive: bool = False,
) -> tuple[tuple[sympy.Symbol, ...], dict[str, sympy.MatrixBase]]:
    """(lambdify arguments, derived gradients) at listed sizes, for the impl tests."""
    sym = attention_symbols(L, S, D, E)
    return sym.arguments(with_mask=additive), sdpa_vjp(sym, allowed=allowed, additive=additive)


# ---------------------------------------------------------------------------
# Score functions at listed sizes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreSymbols:
    """Query q (D_q), key x (D_k), W (D_a×D_k), U (D_a×D_q), v (D_a), bilinear B (D_k×D_q)."""

    q: sympy.MatrixBase
    x: sympy.MatrixBase
    W: sympy.MatrixBase
    U: sympy.MatrixBase
    v: sympy.MatrixBase
    B: sympy.MatrixBase


@cache
def score_symbols(key_dim: int, query_dim: int, hidden_dim: int) -> ScoreSymbols:
    """Symbols of the additive and bilinear scores at listed sizes."""
    return ScoreSymbols(
        q=symbol_vector("q", query_dim),
        x=symbol_vector("x", key_dim),
        W=symbol_matrix("W", hidden_dim, key_dim),
        U=symbol_matrix("U", hidden_dim, query_dim),
        v=symbol_vector("v", hidden_dim),
        B=symbol_matrix("B", key_dim, query_dim),
    )


def additive_score_vjp(sym: ScoreSymbols) -> dict[str, sympy.MatrixBase]:
    """Derived ∂/∂(q, x, W, U, v) of ḡ·vᵀ tanh(W x + U q) (one key, one query; ḡ a symbol)."""
    g = sympy.Symbol("gbar", real=True)
    loss = g * (sym.v.T @ (sym.W @ sym.x + sym.U @ sym.q).applyfunc(sympy.tanh))[0, 0]
    return {name: _matrix_gradient(loss, getattr(sym, name)) for name in ("q", "x", "W", "U", "v")}


def additive_score_vjp_formula(sym: ScoreSymbols) -> dict[str, sympy.MatrixBase]:
    """Typed formula: a = ḡ v ∘ (1 − h²), h = tanh(Wx + Uq).

    q̄ = Uᵀa, x̄ = Wᵀa, W̄ = a xᵀ, Ū = a qᵀ, v̄ = ḡ h.
    """
    g = sympy.Symbol("gbar", real=True)
    h = (sym.W @ sym.x + sym.U @ sym.q).applyfunc(sympy.tanh)
    a = sympy.Matrix([g * sym.v[i] * (1 - h[i] ** 2) for i in range(h.rows)])
    return {"q": sym.U.T @ a, "x": sym.W.T @ a, "W": a @ sym.x.T, "U": a @ sym.q.T, "v": g * h}


def bilinear_score_vjp(sym: ScoreSymbols) -> dict[str, sympy.MatrixBase]:
    """Derived ∂/∂(q, x, B) of ḡ·xᵀ B q."""
    g = sympy.Symbol("gbar", real=True)
    loss = g * (sym.x.T @ sym.B @ sym.q)[0, 0]
    return {name: _matrix_gradient(loss, getattr(sym, name)) for name in ("q", "x", "B")}


def bilinear_score_vjp_formula(sym: ScoreSymbols) -> dict[str, sympy.MatrixBase]:
    """Typed formula: q̄ = ḡ Bᵀ x, x̄ = ḡ B q, B̄ = ḡ x qᵀ."""
    g = sympy.Symbol("gbar", real=True)
    return {"q": g * sym.B.T @ sym.x, "x": g * sym.B @ sym.q, "B": g * sym.x @ sym.q.T}


# ---------------------------------------------------------------------------
# Multi-head attention at listed sizes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MultiHeadSymbols:
    """X_q (L×D), X_k, X_v (S×D), W_q, W_k, W_v (D×h·d), W_o (h·d×D), biases, Ḡ (L×D)."""

    Xq: sympy.MatrixBase
    Xk: sympy.MatrixBase
    Xv: sympy.MatrixBase
    Wq: sympy.MatrixBase
    Wk: sympy.MatrixBase
    Wv: sympy.MatrixBase
    Wo: sympy.MatrixBase
    bq: sympy.MatrixBase
    bk: sympy.MatrixBase
    bv: sympy.MatrixBase
    bo: sympy.MatrixBase
    G: sympy.MatrixBase
    heads: int


@cache
def multi_head_symbols(L: int, S: int, D: int, heads: int, head_dim: int) -> MultiHeadSymbols:
    """Symbols for multi-head attention at listed sizes (biases as 1×width rows)."""
    w = heads * head_dim
    return MultiHeadSymbols(
        Xq=symbol_matrix("xq", L, D),
        Xk=symbol_matrix("xk", S, D),
        Xv=symbol_matrix("xv", S, D),
        Wq=symbol_matrix("Wq", D, w),
        Wk=symbol_matrix("Wk", D, w),
        Wv=symbol_matrix("Wv", D, w),
        Wo=symbol_matrix("Wo", w, D),
        bq=symbol_matrix("bq", 1, w),
        bk=symbol_matrix("bk", 1, w),
        bv=symbol_matrix("bv", 1, w),
        bo=symbol_matrix("bo", 1, D),
        G=symbol_matrix("g", L, D),
        heads=heads,
    )


def _hstack(*blocks: sympy.MatrixBase) -> sympy.MatrixBase:
    """Blocks with equal row counts placed side by side."""
    columns = [block.col(j) for block in blocks for j in range(block.cols)]
    return sympy.Matrix(blocks[0].rows, len(columns), lambda i, j: columns[j][i])


def _ones(rows: int) -> sympy.MatrixBase:
    return sympy.ones(rows, 1)


def multi_head_forward(sym: MultiHeadSymbols) -> sympy.MatrixBase:
    """[head_1 ⊕ … ⊕ head_h] W_o + b_o with head_i = softmax(Q_i K_iᵀ/√d) V_i, Q = X_q W_q + b_q."""
    q = sym.Xq @ sym.Wq + _ones(sym.Xq.rows) @ sym.bq
    k = sym.Xk @ sym.Wk + _ones(sym.Xk.rows) @ sym.bk
    v = sym.Xv @ sym.Wv + _ones(sym.Xv.rows) @ sym.bv
    d = q.cols // sym.heads
    heads = []
    for i in range(sym.heads):
        cols = slice(i * d, (i + 1) * d)
        scores = q[:, cols] @ k[:, cols].T / sympy.sqrt(d)
        weights = masked_softmax_rows(scores, [[True] * k.rows for _ in range(q.rows)])
        heads.append(weights @ v[:, cols])
    concatenated = _hstack(*heads)
    return concatenated @ sym.Wo + _ones(sym.Xq.rows) @ sym.bo


MULTI_HEAD_NAMES = ("Xq", "Xk", "Xv", "Wq", "Wk", "Wv", "Wo", "bq", "bk", "bv", "bo")
"""The arguments of multi-head attention whose gradients are derived."""


def multi_head_vjp(sym: MultiHeadSymbols) -> dict[str, sympy.MatrixBase]:
    """Derived ∂ℓ/∂(every input and parameter) of ℓ = ⟨Ḡ, MHA⟩ (sympy.diff)."""
    out = multi_head_forward(sym)
    loss = sum((g * o for g, o in zip(sym.G, out, strict=True)), sympy.S.Zero)
    return {name: _matrix_gradient(loss, getattr(sym, name)) for name in MULTI_HEAD_NAMES}


def multi_head_vjp_formula(sym: MultiHeadSymbols) -> dict[str, sympy.MatrixBase]:
    """The chain rule through the projections, with the paper's per-head SDPA backward.

    W̄_o = Cᵀ Ḡ, b̄_o = 1ᵀ Ḡ, C̄ = Ḡ W_oᵀ; per head (dQ_i, dK_i, dV_i) from
    ``sdpa_vjp_formula``; W̄_q = X_qᵀ Q̄, b̄_q = 1ᵀ Q̄, X̄_q = Q̄ W_qᵀ (K, V alike).
    """
    q = sym.Xq @ sym.Wq + _ones(sym.Xq.rows) @ sym.bq
    k = sym.Xk @ sym.Wk + _ones(sym.Xk.rows) @ sym.bk
    v = sym.Xv @ sym.Wv + _ones(sym.Xv.rows) @ sym.bv
    d = q.cols // sym.heads
    c_bar = sym.G @ sym.Wo.T
    heads, dq, dk, dv = [], [], [], []
    for i in range(sym.heads):
        cols = slice(i * d, (i + 1) * d)
        head = AttentionSymbols(
            q[:, cols],
            k[:, cols],
            v[:, cols],
            c_bar[:, cols],
            sympy.zeros(q.rows, k.rows),
            sympy.Symbol("c_head", positive=True),
        )
        out, _ = sdpa_forward(head)
        heads.append(out)
        grads = sdpa_vjp_formula(head)
        dq.append(grads["query"])
        dk.append(grads["key"])
        dv.append(grads["value"])
    scale = {sympy.Symbol("c_head", positive=True): 1 / sympy.sqrt(d)}
    concatenated = _hstack(*heads).subs(scale)
    Qb, Kb, Vb = (_hstack(*x).subs(scale) for x in (dq, dk, dv))
    return {
        "Xq": Qb @ sym.Wq.T,
        "Xk": Kb @ sym.Wk.T,
        "Xv": Vb @ sym.Wv.T,
        "Wq": sym.Xq.T @ Qb,
        "Wk": sym.Xk.T @ Kb,
        "Wv": sym.Xv.T @ Vb,
        "Wo": concatenated.T @ sym.G,
        "bq": _ones(sym.Xq.rows).T @ Qb,
        "bk": _ones(sym.Xk.rows).T @ Kb,
        "bv": _ones(sym.Xv.rows).T @ Vb,
        "bo": _ones(sym.Xq.rows).T @ sym.G,
    }
