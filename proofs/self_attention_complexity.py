"""Self-attention vs recurrence vs convolution: cost, sequential ops, path length (ex. 8-3, §8.3).

Derives Vaswani et al. 2017, table 1, from operation counts (``Sum`` over the
loops of each layer), recurrences (``rsolve``) and receptive fields
(``Sum`` + ``solve``) in ``spec.complexity``; solves the crossover n = d;
checks the path lengths against index sets of stacked convolutions and the
attention graph of ``impl.attention`` for concrete sizes (said so below);
shows by counterexample that the kernel width k ≥ 2 and the full (unmasked)
attention graph are needed.
"""

import numpy as np
import sympy

from impl._typing import FloatArray
from impl.attention import scaled_dot_product_attention_with_weights
from proofs._narrate import Derivation
from spec import complexity as cx


def _reach(output: int, kernel: int, depth: int, *, dilated: bool) -> set[int]:
    """Input positions feeding output ``output`` after ``depth`` causal convolutions."""
    reached = {output}
    for layer in range(depth):
        step = kernel**layer if dilated else 1
        reached = {p - tap * step for p in reached for tap in range(kernel)}
    return {p for p in reached if p >= 0}


def _least_depth(length: int, kernel: int, *, dilated: bool, limit: int = 64) -> int | None:
    for depth in range(limit):
        if _reach(length - 1, kernel, depth, dilated=dilated) == set(range(length)):
            return depth
    return None


def _attention_path_length(weights: FloatArray) -> int:
    """Longest shortest path (in layers) from an input to an output when the layer is stacked."""
    size = weights.shape[0]
    reach = np.eye(size, dtype=bool)
    adjacency = weights > 0  # adjacency[i, j]: output i reads input j
    for depth in range(1, size + 1):
        reach = (adjacency.astype(int) @ reach.astype(int)) > 0
        if reach.all():
            return depth
    return -1


def main() -> None:
    """Derive table 1 of Vaswani et al. (2017) and the n = d crossover."""
    proof = Derivation(
        "Self-attention vs recurrence vs convolution (Vaswani et al. 2017, table 1)",
        "book §8.3 and exercise 8-3",
    )
    n, d, k = cx.n, cx.d, cx.k
    claimed = sympy.Matrix(
        [
            [n**2 * d, 1, 1],
            [n * d**2, n, n],
            [k * n * d**2, 1, sympy.ceiling((n - 1) / (k - 1))],
            [k * n * d**2, 1, sympy.ceiling(sympy.log(n, k))],
        ]
    )
    proof.claim(
        claimed,
        "rows: self-attention, recurrent, convolution, dilated convolution; columns: "
        "per-layer multiply-adds (big-O), sequential operations, maximum path length "
        "between an input and an output (n positions, width d, kernel k ≥ 2).",
    )

    attention = cx.self_attention_count()
    proof.step(
        "Count self-attention's loops: Q, K, V projections Σ_i Σ_o Σ_f 1 each; scores "
        "Σ_i Σ_j Σ_f 1; weighted sum Σ_i Σ_j Σ_f 1 (sympy Sum.doit)",
        sympy.Eq(sympy.Symbol("count"), attention.projections + attention.attention),
    )
    proof.check_equal(
        "scores + weighted sum = 2 n² d", attention.attention, 2 * n**2 * d, strength="symbolic"
    )
    proof.check_equal(
        "projections = 3 n d²", attention.projections, 3 * n * d**2, strength="symbolic"
    )
    proof.note(
        "Table 1 counts the attention part, n²d; with projections the layer costs O(n²d + nd²)."
    )
    proof.check_equal(
        "big-O of the full layer (coefficients and dominated terms dropped)",
        cx.big_o(attention.total),
        n**2 * d + n * d**2,
        strength="symbolic",
    )
    proof.step(
        "Recurrence h_t = f(W h_{t−1} + U x_t): two d×d products per step", cx.recurrent_count()
    )
    proof.check_equal(
        "recurrent cost = 2 n d², i.e. O(n d²)",
        cx.recurrent_count(),
        2 * n * d**2,
        strength="symbolic",
    )
    proof.step(
        "Convolution: Σ over n positions, d outputs, k taps, d inputs", cx.convolution_count()
    )
    proof.check_equal(
        "convolution cost = k n d²", cx.convolution_count(), k * n * d**2, strength="symbolic"
    )

    proof.step(
        "Sequential operations of a recurrence: D(t) = D(t − 1) + 1, D(0) = 0 (rsolve) at t = n",
        cx.recurrent_sequential_operations(),
    )
    proof.check_equal(
        "recurrent sequential operations = n",
        cx.recurrent_sequential_operations(),
        n,
        strength="symbolic",
    )
    proof.note(
        "Sequential operations from the data dependencies: depth(node) = 1 + max depth of what "
        "it reads (inputs 0); counted on the dependency graphs of each layer (spec.complexity)."
    )
    sizes = range(1, 13)
    sequential_claims = {
        "self-attention": cx.SELF_ATTENTION_SEQUENTIAL,
        "convolution": cx.CONVOLUTION_SEQUENTIAL,
        "recurrent": cx.recurrent_sequential_operations(),
    }
    for layer, claimed_count in sequential_claims.items():
        counted = [cx.sequential_operations(cx.layer_dependencies(layer, size)) for size in sizes]
        proof.check_true(
            f"{layer}: the longest dependency chain equals the table's sequential operations "
            f"for n ∈ 1..12 (counted {counted[:4]}…)",
            counted == [int(sympy.sympify(claimed_count).subs(n, size)) for size in sizes],
            strength="finite",
        )
    proof.step(
        "Path from x_1 to h_n in a recurrence: P(1) = 1, P(t) = P(t − 1) + 1 (rsolve)",
        cx.recurrent_path_length(),
    )
    proof.check_equal(
        "recurrent maximum path = n", cx.recurrent_path_length(), n, strength="symbolic"
    )

    contiguous, dilated = cx.receptive_field(dilated=False), cx.receptive_field(dilated=True)
    proof.step(
        "Receptive field of L causal convolutions: r(L) = 1 + Σ_{l<L} (k − 1)·δ_l, δ_l = 1 "
        "(contiguous) or k^l (dilated), summed by sympy",
        sympy.Tuple(contiguous, dilated),
    )
    proof.check_zero(
        "contiguous r(L) solves r(L) = r(L − 1) + k − 1, r(0) = 1 (rsolve)",
        cx.receptive_field_recurrence_residual(),
        strength="symbolic",
    )
    proof.check_equal("dilated r(L) = k^L", dilated, k**cx.layers, strength="symbolic")
    proof.step(
        "Least L with r(L) ≥ n: solve r(L) = n and round up (r increases with L for k ≥ 2)",
        sympy.Tuple(
            cx.convolution_path_length(dilated=False), cx.convolution_path_length(dilated=True)
        ),
    )
    proof.check_equal(
        "contiguous path = ⌈(n − 1)/(k − 1)⌉",
        cx.convolution_path_length(dilated=False),
        sympy.ceiling((n - 1) / (k - 1)),
        strength="symbolic",
    )
    mismatches = [
        (length, kernel, dil)
        for dil in (False, True)
        for kernel in range(2, 5)
        for length in range(1, 26)
        if _least_depth(length, kernel, dilated=dil)
        != int(cx.convolution_path_length(dilated=dil).subs({n: length, k: kernel}))
    ]
    proof.check_true(
        "brute force (index sets of stacked causal convolutions) agrees for n ∈ 1..25, "
        "k ∈ 2..4 (concrete sizes), contiguous and dilated",
        not mismatches,
        strength="finite",
    )
    proof.check_equal(
        "lim (n−1)/(k−1) / (n/k) = k/(k − 1) ∈ (1, 2]: the contiguous path is Θ(n/k)",
        cx.contiguous_path_ratio_limit(),
        k / (k - 1),
        strength="symbolic",
    )
    proof.check_equal(
        "lim ⌈log_k n⌉-boundary / log_k n = 1: the dilated path is Θ(log_k n)",
        cx.dilated_path_ratio_limit(),
        1,
        strength="symbolic",
    )

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4))
    _, weights = scaled_dot_product_attention_with_weights(x, x, x)
    proof.check_true(
        "self-attention (impl.attention, n = 8): every α_ij > 0, so every input reaches every "
        "output in one layer — path length 1",
        _attention_path_length(weights) == int(cx.SELF_ATTENTION_PATH),
        strength="numeric",
    )

    proof.step("Crossover: solve n²d = nd² for n > 0 (sympy solve)", sympy.Tuple(*cx.crossover()))
    proof.check_true(
        "the only positive solution is n = d", cx.crossover() == [d], strength="symbolic"
    )
    proof.check_equal(
        "n²d − nd² = d·n·(n − d): the attention part (scores and weighted sum, the table's "
        "n²d) costs less than the recurrence's nd² iff n < d",
        cx.crossover_difference(),
        d * n * (n - d),
        strength="symbolic",
    )
    with_projections = sympy.expand(attention.total - cx.recurrent_count())
    proof.step(
        "Exercise 8-3, stated precisely: with the Q, K, V and output projections counted, the "
        "full layer minus the recurrence is",
        with_projections,
    )
    proof.check_true(
        "4nd² + 2n²d − 2nd² = 2nd² + 2n²d > 0 for all n, d ≥ 1: a full self-attention layer "
        "never costs fewer multiply-adds than a recurrent one; 'cheaper iff n < d' compares "
        "only the attention part with the recurrence",
        with_projections == 2 * n * d**2 + 2 * n**2 * d,
        strength="symbolic",
    )

    proof.note("Counterexamples (each hypothesis dropped):")
    proof.check_true(
        "k = 1: a width-1 kernel never widens the receptive field (r(L) = 1), so n = 2 "
        "positions are never joined (no L ≤ 64 works)",
        _least_depth(2, 1, dilated=False) is None and contiguous.subs(k, 1) == 1,
        strength="finite",
    )
    window = np.abs(np.arange(8)[:, None] - np.arange(8)[None, :]) <= 1
    _, local = scaled_dot_product_attention_with_weights(x, x, x, window)
    proof.check_true(
        "restricted self-attention (each position sees only its neighbours, window 3, n = 8): "
        "the path length is 7, not 1 — O(1) needs every α_ij > 0",
        _attention_path_length(local) == 7,
        strength="numeric",
    )
    proof.note("")
    derived = sympy.Matrix([[row.per_layer, row.sequential, row.path_length] for row in cx.table()])
    proof.check_equal(
        "the derived table equals the claimed one (Vaswani et al. 2017, table 1, typed from the "
        "paper)",
        derived,
        claimed,
        strength="symbolic",
    )
    proof.note(f"{'layer':28} {'per layer':>12} {'sequential':>11} {'max path':>26}")
    for row in cx.table():
        proof.note(
            f"{row.layer:28} {sympy.sstr(row.per_layer):>12} {sympy.sstr(row.sequential):>11} "
            f"{sympy.sstr(row.path_length):>26}"
        )
    proof.qed()


if __name__ == "__main__":
    main()
