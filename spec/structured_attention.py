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
"""

import itertools
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


def forward_messages(potentials: ChainPotentials) -> list[tuple[Expr, Expr]]:
    """α_n(z) = Σ_{z_1..z_{n−1}} exp(score of z_1..z_n with z_n = z), by the forward recursion.

    α_1(z) = exp θ_1(z); α_{n+1}(b) = exp θ_{n+1}(b) Σ_a α_n(a) exp θ_{n,n+1}(a, b).
    (Probability space, exact: the symbolic twin of impl's log-space recursion.)
    """
    u, pw = potentials.unary, potentials.pairwise
    alpha: list[tuple[Expr, Expr]] = [(sympy.exp(u[0][0]), sympy.exp(u[0][1]))]
    for n in range(1, potentials.length):
        previous = alpha[-1]

        def incoming(b: int, previous: tuple[Expr, Expr] = previous, n: int = n) -> Expr:
            return sympy.Add(*(previous[a] * sympy.exp(pw[n - 1][a][b]) for a in (0, 1)))

        alpha.append((sympy.exp(u[n][0]) * incoming(0), sympy.exp(u[n][1]) * incoming(1)))
    return alpha


def backward_messages(potentials: ChainPotentials) -> list[tuple[Expr, Expr]]:
    """β_n(z) = Σ_{z_{n+1}..z_N} exp(score of z_{n+1}..z_N and the edge from z_n = z).

    β_N(z) = 1; β_n(a) = Σ_b exp θ_{n,n+1}(a, b) exp θ_{n+1}(b) β_{n+1}(b).
    """
    u, pw = potentials.unary, potentials.pairwise
    one: Expr = sympy.Integer(1)
    beta: list[tuple[Expr, Expr]] = [(one, one)]
    for n in range(potentials.length - 2, -1, -1):
        following = beta[0]

        def outgoing(a: int, following: tuple[Expr, Expr] = following, n: int = n) -> Expr:
            return sympy.Add(*(sympy.exp(pw[n][a][b] + u[n + 1][b]) * following[b] for b in (0, 1)))

        beta.insert(0, (outgoing(0), outgoing(1)))
    return beta


def forward_backward_marginal(potentials: ChainPotentials, position: int) -> Expr:
    """p(z_n = 1) = α_n(1) β_n(1) / Σ_z α_n(z) β_n(z), from the symbolic messages."""
    alpha = forward_messages(potentials)[position]
    beta = backward_messages(potentials)[position]
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
