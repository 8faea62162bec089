"""Exercise 8-3: self-attention versus recurrence and convolution, derived by sympy.

Book: §8.3 (self-attention models long-range dependencies) and exercise 8-3.
Source of the table: Vaswani et al. 2017, "Attention is all you need",
table 1 (per-layer complexity, sequential operations, maximum path length);
Tang et al. 2018, "Why self-attention?".

Everything is counted, then reduced — nothing is typed in as an answer:

* **Multiply-adds** are ``Sum(1, …)`` over the index ranges of each layer's
  loops (positions n, features d, kernel taps k), evaluated by ``Sum.doit``.
  ``big_o`` keeps the monomials no other monomial dominates (coefficients
  dropped), e.g. 3nd² + 2n²d → n²d + nd².
* **Sequential operations**: the length of the longest chain of outputs of
  one layer that must be computed one after another, from a recurrence
  solved by ``rsolve`` (recurrent: D(t) = D(t−1) + 1) or read off the
  dependency structure (attention and convolution outputs depend only on the
  layer's inputs: 1).
* **Maximum path length**: the number of edges on the longest shortest path
  from an input position to an output position. Self-attention connects every
  pair in one layer (1); a recurrence needs n steps from x_1 to h_n; stacked
  causal convolutions of width k reach r(L) = 1 + Σ_{l<L} (k − 1) positions
  after L layers (dilated, dilation k^l at layer l: 1 + Σ_{l<L} (k − 1)k^l),
  so the path length is the least L with r(L) ≥ n.
* **Crossover**: ``solve`` n²d = nd² for n > 0 gives n = d.

Conventions: n ≥ 1 positions, d ≥ 1 features in and out of each layer,
kernel width k ≥ 2 (written k = m + 2 with m ≥ 0 where a sum needs k ≠ 1),
the recurrence is h_t = f(W h_{t−1} + U x_t) with W, U ∈ R^{d×d}, and the
attention layer projects Q, K, V with d×d matrices (the output projection W^O
is counted separately, as ``output_projection``).
"""

from dataclasses import dataclass
from functools import cache

import sympy

Expr = sympy.Expr

n = sympy.Symbol("n", integer=True, positive=True)
"""Sequence length (positions)."""
d = sympy.Symbol("d", integer=True, positive=True)
"""Representation width (features in and out of a layer)."""
k = sympy.Symbol("k", integer=True, positive=True)
"""Convolution kernel width (k ≥ 2 where it matters)."""
layers = sympy.Symbol("L", integer=True, nonnegative=True)
"""Number of stacked layers."""

_i, _j, _f, _o, _tap, _t, _l = sympy.symbols(
    "i j f o tap t l", seq=True, integer=True, nonnegative=True
)
_m = sympy.Symbol("m", integer=True, nonnegative=True)  # k = m + 2 ≥ 2


def _count(*ranges: tuple[sympy.Symbol, Expr]) -> Expr:
    """Σ 1 over nested loops index ∈ [0, size): the number of multiply-adds they perform."""
    limits = [(index, 0, size - 1) for index, size in ranges]
    return sympy.Sum(1, *limits).doit()


# ---------------------------------------------------------------------------
# Operation counts
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SelfAttentionCount:
    """Multiply-adds of one self-attention layer, by part."""

    projections: Expr  # Q, K, V: 3 × (n positions × d outputs × d inputs)
    scores: Expr  # Q Kᵀ: n queries × n keys × d features
    weighted_sum: Expr  # α V: n queries × n values × d features
    output_projection: Expr  # W^O (Transformer): n × d × d

    @property
    def attention(self) -> Expr:
        """The part specific to attention (scores and weighted sum): what table 1 counts."""
        return self.scores + self.weighted_sum

    @property
    def total(self) -> Expr:
        """Everything, projections included."""
        return self.projections + self.attention + self.output_projection


def self_attention_count() -> SelfAttentionCount:
    """Count the multiply-adds of a self-attention layer from its loops."""
    matvec_per_position = _count((_o, d), (_f, d))  # one d×d matrix times one vector
    return SelfAttentionCount(
        projections=3 * _count((_i, n)) * matvec_per_position,
        scores=_count((_i, n), (_j, n), (_f, d)),
        weighted_sum=_count((_i, n), (_j, n), (_f, d)),
        output_projection=_count((_i, n)) * matvec_per_position,
    )


def recurrent_count() -> Expr:
    """Multiply-adds of h_t = f(W h_{t−1} + U x_t) for t = 1..n (two d×d matrix-vector products)."""
    return _count((_t, n), (_o, d), (_f, d)) + _count((_t, n), (_o, d), (_f, d))


def convolution_count() -> Expr:
    """Multiply-adds of a width-k convolution, d in and d out channels, n output positions."""
    return _count((_i, n), (_o, d), (_tap, k), (_f, d))


def big_o(expr: Expr, variables: tuple[sympy.Symbol, ...] = (n, d, k)) -> Expr:
    """The sum of the monomials of ``expr`` not dominated by another one, coefficients dropped.

    A monomial dominates another if each of its exponents is at least as
    large: 3nd² + 2n²d → n²d + nd² (neither dominates), 2nd² → nd².
    """
    present = tuple(v for v in variables if expr.has(v))
    monomials = sympy.Poly(sympy.expand(expr), *present).monoms()
    kept = [
        m
        for m in monomials
        if not any(o != m and all(a >= b for a, b in zip(o, m, strict=True)) for o in monomials)
    ]
    terms = [sympy.Mul(*(v**e for v, e in zip(present, m, strict=True))) for m in kept]
    return sympy.Add(*terms)


# ---------------------------------------------------------------------------
# Sequential operations and path lengths
# ---------------------------------------------------------------------------


def _solved(solution: Expr | None) -> Expr:
    """A ``sympy.rsolve`` result, which is None when rsolve finds no closed form: raise then."""
    if solution is None:
        raise ArithmeticError("rsolve found no closed form for the recurrence")
    return solution


def recurrent_sequential_operations() -> Expr:
    """Depth of the chain h_1 → h_2 → … → h_n: D(t) = D(t − 1) + 1, D(0) = 0, at t = n."""
    depth = sympy.Function("D")
    solution = sympy.rsolve(depth(_t) - depth(_t - 1) - 1, depth(_t), {depth(0): 0})
    return _solved(solution).subs(_t, n)


def recurrent_path_length() -> Expr:
    """Edges from x_1 to h_n: P(1) = 1 (x_1 → h_1), P(t) = P(t − 1) + 1 (h_{t−1} → h_t)."""
    path = sympy.Function("P")
    solution = sympy.rsolve(path(_t) - path(_t - 1) - 1, path(_t), {path(1): 1})
    return _solved(solution).subs(_t, n)


@cache
def receptive_field(*, dilated: bool) -> Expr:
    """Inputs seen by one output after L stacked causal convolutions of width k.

    Each layer adds (k − 1)·dilation positions: r(L) = 1 + Σ_{l<L} (k − 1)·δ_l
    with δ_l = 1 (contiguous) or k^l (dilated). Summed with k = m + 2 so that
    sympy's geometric sum needs no k ≠ 1 case, then written back in k.
    """
    width = _m + 2
    dilation = width**_l if dilated else sympy.S.One
    summed = 1 + sympy.Sum((width - 1) * dilation, (_l, 0, layers - 1)).doit()
    result: Expr = sympy.simplify(summed).subs(_m, k - 2)
    return sympy.expand(result) if not dilated else result


def receptive_field_recurrence_residual() -> Expr:
    """r(L) − r(L − 1) − (k − 1) for the contiguous field, checked against ``rsolve``."""
    field = sympy.Function("r")
    solved = sympy.rsolve(field(layers) - field(layers - 1) - (k - 1), field(layers), {field(0): 1})
    return sympy.expand(_solved(solved) - receptive_field(dilated=False))


@cache
def convolution_path_length(*, dilated: bool) -> Expr:
    """Least L with r(L) ≥ n: solve r(L) = n for L (r increases in L), then round up."""
    (boundary,) = sympy.solve(sympy.Eq(receptive_field(dilated=dilated), n), layers)
    return sympy.ceiling(boundary)


SELF_ATTENTION_SEQUENTIAL = sympy.S.One
"""Every output of a self-attention layer depends only on the layer's inputs: one parallel step."""
SELF_ATTENTION_PATH = sympy.S.One
"""The attention graph of one layer joins every output to every input (α_ij > 0): one edge."""
CONVOLUTION_SEQUENTIAL = sympy.S.One
"""Every output of a convolution depends only on the layer's inputs: one parallel step."""


def layer_dependencies(layer: str, length: int, kernel: int = 3) -> dict[str, list[str]]:
    """The data dependencies of one layer over ``length`` positions, node by node.

    Nodes are ``"x{i}"`` (the layer's inputs, available at once), ``"y{i}"`` (its
    outputs) and, for the recurrence, ``"h{t}"`` (hidden states, ``h0`` given). Each
    node maps to the nodes it reads: self-attention's y_i reads every x_j; a causal
    convolution's y_i reads x_{i−k+1..i}; a recurrence's h_t reads h_{t−1} and x_t, and
    y_t = h_t.
    """
    inputs = [f"x{i}" for i in range(length)]
    graph: dict[str, list[str]] = {x: [] for x in inputs}
    if layer == "self-attention":
        graph |= {f"y{i}": list(inputs) for i in range(length)}
    elif layer == "convolution":
        graph |= {
            f"y{i}": [f"x{j}" for j in range(max(0, i - kernel + 1), i + 1)] for i in range(length)
        }
    elif layer == "recurrent":
        graph["h0"] = []
        graph |= {f"h{t}": [f"h{t - 1}", f"x{t - 1}"] for t in range(1, length + 1)}
        graph |= {f"y{t}": [f"h{t + 1}"] for t in range(length)}
    else:
        raise ValueError(f"layer must be self-attention, convolution or recurrent, got {layer!r}")
    return graph


def sequential_operations(graph: dict[str, list[str]]) -> int:
    """Longest chain of operations that must run one after another (inputs cost 0).

    depth(node) = 0 for a node with no dependencies, else 1 + max depth of what it
    reads; the layer's sequential operations are the largest depth of an output
    ``y*`` that is computed (a ``y`` that only renames an ``h`` adds no operation).
    """
    depth: dict[str, int] = {}

    def of(node: str) -> int:
        if node not in depth:
            reads = graph[node]
            renames = node.startswith("y") and len(reads) == 1 and reads[0].startswith("h")
            depth[node] = 0 if not reads else max(of(r) for r in reads) + (0 if renames else 1)
        return depth[node]

    return max(of(node) for node in graph if node.startswith("y"))


def crossover() -> list[Expr]:
    """Positive solutions n of n²d = nd² (attention's and recurrence's per-layer costs)."""
    attention_term = big_o(self_attention_count().attention)
    recurrent_term = big_o(recurrent_count())
    return sympy.solve(sympy.Eq(attention_term, recurrent_term), n)


def crossover_difference() -> Expr:
    """n²d − nd², factored: d·n·(n − d), negative exactly when n < d."""
    return sympy.factor(big_o(self_attention_count().attention) - big_o(recurrent_count()))


def contiguous_path_ratio_limit() -> Expr:
    """lim_{n→∞} ((n − 1)/(k − 1)) / (n/k) = k/(k − 1) ∈ (1, 2] for k ≥ 2: the path is Θ(n/k)."""
    (boundary,) = sympy.solve(sympy.Eq(receptive_field(dilated=False), n), layers)
    return sympy.simplify(sympy.limit(boundary / (n / k), n, sympy.oo))


def dilated_path_ratio_limit() -> Expr:
    """lim_{n→∞} (log n / log k) / log_k n = 1: the dilated path is Θ(log_k n)."""
    (boundary,) = sympy.solve(sympy.Eq(receptive_field(dilated=True), n), layers)
    return sympy.simplify(sympy.limit(boundary / sympy.log(n, k), n, sympy.oo))


@dataclass(frozen=True)
class TableRow:
    """One row of Vaswani et al. 2017, table 1 (as derived here)."""

    layer: str
    per_layer: Expr
    sequential: Expr
    path_length: Expr


def table() -> list[TableRow]:
    """The derived table: per-layer complexity (big-O), sequential ops, maximum path length."""
    attention = self_attention_count()
    return [
        TableRow(
            "self-attention",
            big_o(attention.attention),
            SELF_ATTENTION_SEQUENTIAL,
            SELF_ATTENTION_PATH,
        ),
        TableRow(
            "recurrent",
            big_o(recurrent_count()),
            recurrent_sequential_operations(),
            recurrent_path_length(),
        ),
        TableRow(
            "convolutional (contiguous)",
            big_o(convolution_count()),
            CONVOLUTION_SEQUENTIAL,
            convolution_path_length(dilated=False),
        ),
        TableRow(
            "convolutional (dilated)",
            big_o(convolution_count()),
            CONVOLUTION_SEQUENTIAL,
            convolution_path_length(dilated=True),
        ),
    ]
