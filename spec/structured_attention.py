"""Symbolic reference for structured (linear-chain CRF) attention, by brute-force enumeration.

Book: §8.2.1 (b), attention as a graphical model (Kim et al. 2017). Selection
variables z_1..z_N ∈ {0, 1} with unary log-potentials θ_n(z_n) and pairwise
log-potentials θ_{n,n+1}(z_n, z_{n+1}):

    score(z) = Σ_n θ_n(z_n) + Σ_{n<N} θ_{n,n+1}(z_n, z_{n+1})
    Z        = Σ_{z ∈ {0,1}^N} exp(score(z))
    p(z_n = 1) = Σ_{z : z_n = 1} exp(score(z)) / Z

Everything here is built from these definitions by enumerating all 2^N
assignments (a concrete N), never from a closed form; the forward–backward
algorithm of ``impl.structured_attention`` is checked against it. Positions
are 0-based in code (``unary[n][z]`` is the book's θ_{n+1}(z)); the symbols
print 1-based, as in the book.

Symbolic chain length: ``prefix_suffix_marginal`` writes the marginal of one
position k of a chain of *any* length through the forward message A(z_k) (the
sum over z_1..z_{k−1}) and the backward message B(z_k) (the sum over
z_{k+1}..z_N), which is how the independent-sigmoid limit is derived for
symbolic N; ``independent_partition_product`` is Z's product form with a
symbolic N (``Product``).

Every chain length, by induction: ``segment_score`` writes score(z) with indexed symbols
and a symbolic length; ``forward_induction``, ``backward_induction`` and
``marginal_derivation`` give the base cases and the steps that show the recursions
``forward_step``/``backward_step`` (which ``forward_messages``/``backward_messages`` run)
compute the sums over prefixes/suffixes, and ``marginal_from_messages`` the marginal, for
every N.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy import Expr, Symbol

Table = tuple[tuple[Symbol, Symbol], tuple[Symbol, Symbol]]
"""A 2×2 table of pairwise potential symbols, ``table[a][b]`` = θ(z_n = a, z_{n+1} = b)."""


@dataclass(frozen=True)
class ChainPotentials:
    """The potential symbols of a chain of length N.

    ``unary[n][z]`` is θ_{n+1}(z) and ``pairwise[n][a][b]`` is
    θ_{n+1,n+2}(a, b) (0-based n in code, 1-based in the printed names).
    """

    unary: tuple[tuple[Symbol, Symbol], ...]
    pairwise: tuple[Table, ...]

    @property
    def length(self) -> int:
        """N, the number of selection variables."""
        return len(self.unary)

    def flat_symbols(self) -> list[Symbol]:
        """All symbols in C order of NumPy arrays unary (N, 2) then pairwise (N−1, 2, 2).

        ``sympy.lambdify(potentials.flat_symbols(), expr)`` is then called as
        ``f(*unary.ravel(), *pairwise.ravel())``.
        """
        symbols = [s for row in self.unary for s in row]
        symbols += [s for table in self.pairwise for row in table for s in row]
        return symbols

    def pairwise_symbols(self) -> list[Symbol]:
        """The pairwise symbols only (e.g. to set them to 0)."""
        return [s for table in self.pairwise for row in table for s in row]


def chain_potentials(length: int) -> ChainPotentials:
    """Real symbols θ_n(z) and θ_{n,n+1}(a, b) for a chain of ``length`` ≥ 1 variables."""
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    unary = tuple(
        (Symbol(f"theta_{n + 1}(0)", real=True), Symbol(f"theta_{n + 1}(1)", real=True))
        for n in range(length)
    )

    def table(n: int) -> Table:
        def cell(a: int, b: int) -> Symbol:
            return Symbol(f"theta_{n + 1},{n + 2}({a},{b})", real=True)

        return ((cell(0, 0), cell(0, 1)), (cell(1, 0), cell(1, 1)))

    return ChainPotentials(unary=unary, pairwise=tuple(table(n) for n in range(length - 1)))


def assignments(length: int) -> list[tuple[int, ...]]:
    """All 2^N assignments z ∈ {0, 1}^N, in lexicographic order."""
    return list(itertools.product((0, 1), repeat=length))


def assignment_score(potentials: ChainPotentials, z: tuple[int, ...]) -> Expr:
    """score(z) = Σ_n θ_n(z_n) + Σ_{n<N} θ_{n,n+1}(z_n, z_{n+1}) (the log of the unnormalised p)."""
    if len(z) != potentials.length:
        raise ValueError(f"assignment has {len(z)} entries, the chain has {potentials.length}")
    unary_part = sympy.Add(*(potentials.unary[n][z[n]] for n in range(len(z))))
    pairwise_part = sympy.Add(*(potentials.pairwise[n][z[n]][z[n + 1]] for n in range(len(z) - 1)))
    return unary_part + pairwise_part


def enumerated_partition(potentials: ChainPotentials) -> Expr:
    """Z = Σ_{z ∈ {0,1}^N} exp(score(z)), all 2^N terms written out."""
    return sympy.Add(
        *(sympy.exp(assignment_score(potentials, z)) for z in assignments(potentials.length))
    )


def enumerated_log_partition(potentials: ChainPotentials) -> Expr:
    """log Z by enumeration. Twin of ``impl.structured_attention.crf_log_partition``."""
    return sympy.log(enumerated_partition(potentials))


def enumerated_marginal(potentials: ChainPotentials, position: int) -> Expr:
    """p(z_n = 1) = Σ_{z : z_n = 1} exp(score(z)) / Z (0-based ``position``).

    Twin of ``impl.structured_attention.crf_marginals`` (its entry ``position``).
    """
    if not 0 <= position < potentials.length:
        raise ValueError(f"position must be in [0, {potentials.length}), got {position}")
    selected = sympy.Add(
        *(
            sympy.exp(assignment_score(potentials, z))
            for z in assignments(potentials.length)
            if z[position] == 1
        )
    )
    return selected / enumerated_partition(potentials)


def log_partition_gradient(potentials: ChainPotentials, position: int) -> Expr:
    """∂ log Z / ∂θ_n(1), differentiated symbolically from the enumerated log Z."""
    gradient: Expr = enumerated_log_partition(potentials).diff(potentials.unary[position][1])
    return gradient


def sigmoid(x: Expr) -> Expr:
    """σ(x) = 1 / (1 + exp(−x))."""
    return 1 / (1 + sympy.exp(-x))


def zero_pairwise(potentials: ChainPotentials) -> dict[Symbol, int]:
    """The substitution θ_{n,n+1}(a, b) = 0 for every edge (independent selections)."""
    return dict.fromkeys(potentials.pairwise_symbols(), 0)


def independent_partition(potentials: ChainPotentials) -> Expr:
    """Π_n (exp θ_n(0) + exp θ_n(1)): the product the enumerated Z should factor into."""
    return sympy.Mul(*(sympy.exp(u0) + sympy.exp(u1) for u0, u1 in potentials.unary))


def independent_partition_product() -> tuple[Expr, Symbol, sympy.IndexedBase]:
    """(Π_{n=1}^{N} (exp θ[n, 0] + exp θ[n, 1]), N, θ) with a symbolic length N.

    ``theta`` is an ``IndexedBase``; ``.doit()`` after substituting a concrete
    N writes the product out.
    """
    n = Symbol("n", integer=True, positive=True)
    length = Symbol("N", integer=True, positive=True)
    theta = sympy.IndexedBase("theta")
    factor = sympy.exp(theta[n, 0]) + sympy.exp(theta[n, 1])
    return sympy.Product(factor, (n, 1, length)), length, theta


UnaryLookup = Callable[[Expr | int, int], Expr]
"""θ_n(z) as a function of the (0-based) position n and the label z."""

PairwiseLookup = Callable[[Expr | int, int, int], Expr]
"""θ_{n,n+1}(a, b) as a function of the (0-based) edge n and the labels a, b."""


def forward_initial(unary: UnaryLookup) -> tuple[Expr, Expr]:
    """α at the first position (0-based 0): α_1(z) = exp θ_1(z)."""
    return (sympy.exp(unary(0, 0)), sympy.exp(unary(0, 1)))


def forward_step(
    previous: tuple[Expr, Expr], unary: UnaryLookup, pairwise: PairwiseLookup, position: Expr | int
) -> tuple[Expr, Expr]:
    """α at ``position`` (0-based, ≥ 1) from α at ``position − 1``: one step of the recursion.

    α_{n+1}(b) = exp θ_{n+1}(b) Σ_a α_n(a) exp θ_{n,n+1}(a, b) (book numbering). ``position``
    may be a symbol: the lookups then return indexed symbols (the induction in
    ``forward_induction``).
    """

    def incoming(b: int) -> Expr:
        return sympy.Add(*(previous[a] * sympy.exp(pairwise(position - 1, a, b)) for a in (0, 1)))

    return (
        sympy.exp(unary(position, 0)) * incoming(0),
        sympy.exp(unary(position, 1)) * incoming(1),
    )


def backward_final() -> tuple[Expr, Expr]:
    """β at the last position: β_N(z) = 1 (an empty sum of scores, exp 0)."""
    one: Expr = sympy.Integer(1)
    return (one, one)


def backward_step(
    following: tuple[Expr, Expr], unary: UnaryLookup, pairwise: PairwiseLookup, position: Expr | int
) -> tuple[Expr, Expr]:
    """β at ``position`` (0-based) from β at ``position + 1``: one step of the backward recursion.

    β_n(a) = Σ_b exp θ_{n,n+1}(a, b) exp θ_{n+1}(b) β_{n+1}(b) (book numbering).
    """

    def outgoing(a: int) -> Expr:
        return sympy.Add(
            *(
                sympy.exp(pairwise(position, a, b) + unary(position + 1, b)) * following[b]
                for b in (0, 1)
            )
        )

    return (outgoing(0), outgoing(1))


def _lookups(potentials: ChainPotentials) -> tuple[UnaryLookup, PairwiseLookup]:
    """The chain's symbols as lookups by (0-based) position and labels."""

    def unary(n: Expr | int, z: int) -> Expr:
        return potentials.unary[int(n)][z]

    def pairwise(n: Expr | int, a: int, b: int) -> Expr:
        return potentials.pairwise[int(n)][a][b]

    return unary, pairwise


def forward_messages(potentials: ChainPotentials) -> list[tuple[Expr, Expr]]:
    """α_n(z) = Σ_{z_1..z_{n−1}} exp(score of z_1..z_n with z_n = z), by the forward recursion.

    α_1(z) = exp θ_1(z); α_{n+1}(b) = exp θ_{n+1}(b) Σ_a α_n(a) exp θ_{n,n+1}(a, b)
    (``forward_initial``, ``forward_step``). Probability space, exact: the symbolic twin of
    impl's log-space recursion.
    """
    unary, pairwise = _lookups(potentials)
    alpha: list[tuple[Expr, Expr]] = [forward_initial(unary)]
    for n in range(1, potentials.length):
        alpha.append(forward_step(alpha[-1], unary, pairwise, n))
    return alpha


def backward_messages(potentials: ChainPotentials) -> list[tuple[Expr, Expr]]:
    """β_n(z) = Σ_{z_{n+1}..z_N} exp(score of z_{n+1}..z_N and the edge from z_n = z).

    β_N(z) = 1; β_n(a) = Σ_b exp θ_{n,n+1}(a, b) exp θ_{n+1}(b) β_{n+1}(b)
    (``backward_final``, ``backward_step``).
    """
    unary, pairwise = _lookups(potentials)
    beta: list[tuple[Expr, Expr]] = [backward_final()]
    for n in range(potentials.length - 2, -1, -1):
        beta.insert(0, backward_step(beta[0], unary, pairwise, n))
    return beta


def forward_backward_marginal(potentials: ChainPotentials, position: int) -> Expr:
    """p(z_n = 1) = α_n(1) β_n(1) / Σ_z α_n(z) β_n(z), from the symbolic messages."""
    return marginal_from_messages(
        forward_messages(potentials)[position], backward_messages(potentials)[position]
    )


def marginal_from_messages(alpha: tuple[Expr, Expr], beta: tuple[Expr, Expr]) -> Expr:
    """α_n(1) β_n(1) / Σ_z α_n(z) β_n(z) from one position's messages."""
    return alpha[1] * beta[1] / (alpha[0] * beta[0] + alpha[1] * beta[1])


def prefix_suffix_marginal() -> tuple[Expr, dict[str, Symbol]]:
    """p(z_k = 1) of a chain of any length, through prefix and suffix messages.

    With A(z) = Σ_{z_1..z_{k−1}} exp(score of the prefix, edge into z_k = z)
    and B(z) = Σ_{z_{k+1}..z_N} exp(score of the suffix, edge out of z_k = z):

        Z = Σ_z exp θ_k(z) A(z) B(z),   p(z_k = 1) = exp θ_k(1) A(1) B(1) / Z.

    A(0), A(1), B(0), B(1) > 0 are symbols standing for sums over chains of
    arbitrary length, so the expression holds for every N and k. Returns the
    marginal and the symbols by name ("theta0", "theta1", "A0", "A1", "B0", "B1").
    """
    names = ("theta0", "theta1")
    theta0, theta1 = (Symbol(name, real=True) for name in names)
    a0, a1, b0, b1 = (Symbol(name, positive=True) for name in ("A0", "A1", "B0", "B1"))
    weight0 = sympy.exp(theta0) * a0 * b0
    weight1 = sympy.exp(theta1) * a1 * b1
    symbols = {"theta0": theta0, "theta1": theta1, "A0": a0, "A1": a1, "B0": b0, "B1": b1}
    return weight1 / (weight0 + weight1), symbols


def prefix_message(
    previous: tuple[Expr, Expr], edge: tuple[tuple[Expr, Expr], tuple[Expr, Expr]]
) -> tuple[Expr, Expr]:
    """A(z_k) = Σ_a α_{k−1}(a) exp θ_{k−1,k}(a, z_k) for z_k = 0, 1 (the message into z_k)."""
    return (
        previous[0] * sympy.exp(edge[0][0]) + previous[1] * sympy.exp(edge[1][0]),
        previous[0] * sympy.exp(edge[0][1]) + previous[1] * sympy.exp(edge[1][1]),
    )


# ---- Every chain length: the recursions and the marginal by induction ---------------------
#
# A chain of symbolic length is written with indexed symbols (0-based positions, as in code):
# theta[n, z] is the book's θ_{n+1}(z), psi[n, a, b] its θ_{n+1,n+2}(a, b) and z[n] the
# label at position n. A sum over all label sequences of a symbolic length cannot be written
# out, so it is named: the sum over the prefixes of length L that end in a is
# Σ_{p=1}^{M} exp E[a, p], where E[a, p] is the score of the p-th such prefix (M = 2^{L−1}
# of them, in any order); suffixes likewise with F. The induction then needs only what the
# definitions give: how a score grows by one position (split off one term of the Σ in
# score(z)), that the sequences ending in b are the shorter ones ending in a = 0 or 1 with
# b appended, and that a factor not depending on p comes out of Σ_p.


@dataclass(frozen=True)
class SymbolicChain:
    """Indexed potentials and labels of a chain of symbolic length (0-based positions)."""

    theta: sympy.IndexedBase
    """theta[n, z] = θ_{n+1}(z)."""
    psi: sympy.IndexedBase
    """psi[n, a, b] = θ_{n+1,n+2}(a, b)."""
    z: sympy.IndexedBase
    """z[n], the label at position n."""
    m: Symbol
    """The summation index of the score's Σ."""

    def unary(self, n: Expr | int, label: int) -> Expr:
        """θ at position n for ``label`` (a ``UnaryLookup``)."""
        return self.theta[n, label]

    def pairwise(self, n: Expr | int, a: int, b: int) -> Expr:
        """θ on the edge n → n + 1 for labels a, b (a ``PairwiseLookup``)."""
        return self.psi[n, a, b]


def symbolic_chain() -> SymbolicChain:
    """The indexed symbols θ, ψ, z and the summation index m."""
    return SymbolicChain(
        theta=sympy.IndexedBase("theta"),
        psi=sympy.IndexedBase("psi"),
        z=sympy.IndexedBase("z"),
        m=Symbol("m", integer=True),
    )


def segment_score(chain: SymbolicChain, first: Expr | int, last: Expr | int) -> Expr:
    """Σ_{m=first}^{last} θ_m(z_m) + Σ_{m=first}^{last−1} θ_{m,m+1}(z_m, z_{m+1}).

    The definition score(z) = Σ_n θ_n(z_n) + Σ_{n<N} θ_{n,n+1}(z_n, z_{n+1}) restricted to
    positions first..last (0-based): ``segment_score(chain, 0, N − 1)`` is score(z) for a
    chain of length N, with N a symbol or a number.
    """
    m, z = chain.m, chain.z
    unary_part = sympy.Sum(chain.theta[m, z[m]], (m, first, last))
    pairwise_part = sympy.Sum(chain.psi[m, z[m], z[m + 1]], (m, first, last - 1))
    return unary_part + pairwise_part


def concrete_score(chain: SymbolicChain, potentials: ChainPotentials, z: tuple[int, ...]) -> Expr:
    """``segment_score`` of a concrete assignment, written in ``potentials``' symbols."""
    written = segment_score(chain, 0, len(z) - 1).doit()
    labelled = written.subs({chain.z[n]: label for n, label in enumerate(z)})
    rename = {chain.theta[n, a]: potentials.unary[n][a] for n in range(len(z)) for a in (0, 1)}
    rename |= {
        chain.psi[n, a, b]: potentials.pairwise[n][a][b]
        for n in range(len(z) - 1)
        for a in (0, 1)
        for b in (0, 1)
    }
    renamed: Expr = labelled.xreplace(rename)
    return renamed


def split_off_last_term(expr: Expr, of: sympy.IndexedBase | None = None) -> Expr:
    """Σ_{m=a}^{b} f(m) → Σ_{m=a}^{b−1} f(m) + f(b) for each Sum (over ``of`` if given)."""

    def split(s: sympy.Sum) -> Expr:
        (index, low, high) = s.limits[0]
        last: Expr = s.function.subs(index, high)
        return sympy.Sum(s.function, (index, low, high - 1)) + last

    split_expr: Expr = expr.replace(
        lambda e: isinstance(e, sympy.Sum) and (of is None or e.function.has(of)), split
    )
    return split_expr


def split_off_first_term(expr: Expr, of: sympy.IndexedBase | None = None) -> Expr:
    """Σ_{m=a}^{b} f(m) → f(a) + Σ_{m=a+1}^{b} f(m) for each Sum (over ``of`` if given)."""

    def split(s: sympy.Sum) -> Expr:
        (index, low, high) = s.limits[0]
        first: Expr = s.function.subs(index, low)
        return first + sympy.Sum(s.function, (index, low + 1, high))

    split_expr: Expr = expr.replace(
        lambda e: isinstance(e, sympy.Sum) and (of is None or e.function.has(of)), split
    )
    return split_expr


def pull_out_constant_factors(expr: Expr) -> Expr:
    """Σ_p c·f(p) → c·Σ_p f(p) for every factor c free of p (innermost sums first).

    Exponentials of sums are split first (exp(x + y) = exp(x) exp(y)), so that the part of a
    score that does not depend on p becomes a separate factor.
    """

    def pull(s: sympy.Sum) -> Expr:
        index = s.limits[0][0]
        factors = sympy.Mul.make_args(sympy.expand(s.function))
        constant = [f for f in factors if not f.has(index)]
        varying = [f for f in factors if f.has(index)]
        return sympy.Mul(*constant) * sympy.Sum(sympy.Mul(*varying), *s.limits)

    pulled: Expr = sympy.expand(expr).replace(lambda e: isinstance(e, sympy.Sum), pull)
    return pulled


@dataclass(frozen=True)
class ForwardInduction:
    """α_n(z) = Σ over the prefixes of length n ending in z of exp score, for every n.

    Hypothesis for prefixes of length L (symbolic L ≥ 1, last position L − 1):
    P_L(a) = Σ_{p=1}^{M} exp E[a, p] = α_{L−1}(a) (0-based α). Step: P_{L+1}(b), split by the
    label a at position L − 1, equals ``forward_step`` applied to P_L.
    """

    length: Symbol
    """L, the length of the prefixes in the hypothesis."""
    increment: Expr
    """score(z_0..z_L) − score(z_0..z_{L−1}), derived from ``segment_score``."""
    hypothesis: tuple[Expr, Expr]
    """P_L(0), P_L(1) as named sums over prefixes."""
    split: tuple[Expr, Expr]
    """P_{L+1}(b) = Σ_a Σ_p exp(E[a, p] + increment at z_{L−1} = a, z_L = b)."""
    factored: tuple[Expr, Expr]
    """``split`` with the p-free factors pulled out of Σ_p."""
    recursion: tuple[Expr, Expr]
    """``forward_step(hypothesis, …, L)``: what the algorithm computes from the hypothesis."""
    base: tuple[Expr, Expr]
    """P_1(z) = exp score(z_0) with z_0 = z, from ``segment_score``."""
    base_recursion: tuple[Expr, Expr]
    """``forward_initial``."""


def forward_induction() -> ForwardInduction:
    """The base case and the step L → L + 1 of the forward recursion (symbolic L)."""
    chain = symbolic_chain()
    z = chain.z
    length = Symbol("L", integer=True, positive=True)
    p = Symbol("p", integer=True)
    count = Symbol("M", integer=True, positive=True)
    prefix_scores = sympy.IndexedBase("E")
    increment = sympy.simplify(
        split_off_last_term(segment_score(chain, 0, length)) - segment_score(chain, 0, length - 1)
    )
    hypothesis = tuple(sympy.Sum(sympy.exp(prefix_scores[a, p]), (p, 1, count)) for a in (0, 1))

    def grown(a: int, b: int) -> Expr:
        step = increment.subs({z[length]: b, z[length - 1]: a})
        return sympy.Sum(sympy.exp(prefix_scores[a, p] + step), (p, 1, count))

    split = tuple(sympy.Add(*(grown(a, b) for a in (0, 1))) for b in (0, 1))
    base = tuple(sympy.exp(segment_score(chain, 0, 0).doit().subs(z[0], label)) for label in (0, 1))
    return ForwardInduction(
        length=length,
        increment=increment,
        hypothesis=(hypothesis[0], hypothesis[1]),
        split=(split[0], split[1]),
        factored=(pull_out_constant_factors(split[0]), pull_out_constant_factors(split[1])),
        recursion=forward_step((hypothesis[0], hypothesis[1]), chain.unary, chain.pairwise, length),
        base=(base[0], base[1]),
        base_recursion=forward_initial(chain.unary),
    )


@dataclass(frozen=True)
class BackwardInduction:
    """β_n(a) = Σ over the suffixes after position n (z_n = a) of exp(their score), every n.

    The suffix score after n, with the edge from z_n, is
    tail(n) = segment_score(n, N − 1) − θ_n(z_n). Hypothesis at position n (symbolic n, N):
    Q_n(b) = Σ_{r=1}^{K} exp F[b, r] = β_n(b). Step: Q_{n−1}(a), split by z_n = b, equals
    ``backward_step`` applied to Q_n.
    """

    position: Symbol
    """n, the position of the hypothesis."""
    chain_length: Symbol
    """N."""
    increment: Expr
    """tail(n − 1) − tail(n), derived from ``segment_score``."""
    hypothesis: tuple[Expr, Expr]
    split: tuple[Expr, Expr]
    factored: tuple[Expr, Expr]
    recursion: tuple[Expr, Expr]
    """``backward_step(hypothesis, …, n − 1)``."""
    base: tuple[Expr, Expr]
    """Q_{N−1}(a) = exp tail(N − 1) (an empty suffix)."""
    base_recursion: tuple[Expr, Expr]
    """``backward_final``."""


def suffix_score(chain: SymbolicChain, position: Expr | int, last: Expr | int) -> Expr:
    """tail(n): the score of z_{n+1}..z_last with the edge from z_n (θ_n(z_n) left out)."""
    return segment_score(chain, position, last) - chain.theta[position, chain.z[position]]


def backward_induction() -> BackwardInduction:
    """The base case and the step n → n − 1 of the backward recursion (symbolic n, N)."""
    chain = symbolic_chain()
    z = chain.z
    n = Symbol("n", integer=True, positive=True)
    length = Symbol("N", integer=True, positive=True)
    r = Symbol("r", integer=True)
    count = Symbol("K", integer=True, positive=True)
    suffix_scores = sympy.IndexedBase("F")
    increment = sympy.simplify(
        split_off_first_term(suffix_score(chain, n - 1, length - 1))
        - suffix_score(chain, n, length - 1)
    )
    hypothesis = tuple(sympy.Sum(sympy.exp(suffix_scores[b, r]), (r, 1, count)) for b in (0, 1))

    def grown(a: int, b: int) -> Expr:
        step = increment.subs({z[n - 1]: a, z[n]: b})
        return sympy.Sum(sympy.exp(suffix_scores[b, r] + step), (r, 1, count))

    split = tuple(sympy.Add(*(grown(a, b) for b in (0, 1))) for a in (0, 1))
    base = tuple(
        sympy.exp(suffix_score(chain, length - 1, length - 1).doit().subs(z[length - 1], label))
        for label in (0, 1)
    )
    return BackwardInduction(
        position=n,
        chain_length=length,
        increment=increment,
        hypothesis=(hypothesis[0], hypothesis[1]),
        split=(split[0], split[1]),
        factored=(pull_out_constant_factors(split[0]), pull_out_constant_factors(split[1])),
        recursion=backward_step((hypothesis[0], hypothesis[1]), chain.unary, chain.pairwise, n - 1),
        base=(base[0], base[1]),
        base_recursion=backward_final(),
    )


@dataclass(frozen=True)
class MarginalDerivation:
    """p(z_n = 1) from the messages, for symbolic n and N, against its definition."""

    score_split: Expr
    """score(z) − (score of z_0..z_n) − tail(n): 0 once sympy joins the adjacent Σ ranges."""
    restricted: tuple[Expr, Expr]
    """Σ_{z : z_n = c} exp score(z) as Σ_p Σ_r exp(E[c, p] + F[c, r]) (prefix × suffix)."""
    restricted_factored: tuple[Expr, Expr]
    message_products: tuple[Expr, Expr]
    """α_n(c) β_n(c) by the induction hypotheses (α_n = P_{n+1}, β_n = Q_n)."""
    from_messages: Expr
    """``marginal_from_messages``."""
    definition: Expr
    """Σ_{z_n = 1} exp score / (Σ_{z_n = 0} + Σ_{z_n = 1}) exp score: the definition."""


def marginal_derivation() -> MarginalDerivation:
    """Join a prefix and a suffix at position n: α_n(c) β_n(c) = Σ_{z_n = c} exp score(z)."""
    chain = symbolic_chain()
    n, length = Symbol("n", integer=True, positive=True), Symbol("N", integer=True, positive=True)
    p, r = Symbol("p", integer=True), Symbol("r", integer=True)
    m_count, k_count = (Symbol(name, integer=True, positive=True) for name in ("M", "K"))
    prefix_scores, suffix_scores = sympy.IndexedBase("E"), sympy.IndexedBase("F")
    # θ_n(z_n) is the first term of the suffix's unary Σ (then taken off again): split it
    # off, and the remaining ranges 0..n and n+1..N−1 (unary), 0..n−1 and n..N−2 (pairwise)
    # are adjacent, which sympy joins.
    score_split = sympy.simplify(
        segment_score(chain, 0, length - 1)
        - segment_score(chain, 0, n)
        - split_off_first_term(suffix_score(chain, n, length - 1), of=chain.theta)
    )
    restricted = tuple(
        sympy.Sum(
            sympy.exp(prefix_scores[c, p] + suffix_scores[c, r]), (p, 1, m_count), (r, 1, k_count)
        )
        for c in (0, 1)
    )

    def nested(total: Expr) -> Expr:
        # Σ_{p, r} as Σ_r Σ_p, so that each level's constant factors can be pulled out.
        s = total
        assert isinstance(s, sympy.Sum)
        inner = sympy.Sum(s.function, s.limits[0])
        return pull_out_constant_factors(sympy.Sum(pull_out_constant_factors(inner), s.limits[1]))

    alpha = tuple(sympy.Sum(sympy.exp(prefix_scores[c, p]), (p, 1, m_count)) for c in (0, 1))
    beta = tuple(sympy.Sum(sympy.exp(suffix_scores[c, r]), (r, 1, k_count)) for c in (0, 1))
    factored = (nested(restricted[0]), nested(restricted[1]))
    return MarginalDerivation(
        score_split=score_split,
        restricted=(restricted[0], restricted[1]),
        restricted_factored=factored,
        message_products=(alpha[0] * beta[0], alpha[1] * beta[1]),
        from_messages=marginal_from_messages((alpha[0], alpha[1]), (beta[0], beta[1])),
        definition=factored[1] / (factored[0] + factored[1]),
    )
