"""Online softmax (§8.2–8.3): merging block states (m, ℓ, o) gives exactly softmax(s)·V.

The algebra under blocked (FlashAttention-style) attention, derived with sympy
from ``spec.online_softmax``: the merge of partial states is associative and
commutative with identity (−∞, 0, 0) because R(m, ℓ, o) = (ℓe^m, oe^m) turns it
into +; by induction on the number of blocks B (symbolic), folding any
partition of the keys gives o/ℓ = softmax(s)·V — compared with
``spec.softmax``'s α for symbolic N — and m + log ℓ = log Σ e^{s_j}. Masked keys
(χ_j = 0, score −∞) and fully masked queries (output 0, log-sum-exp −∞)
follow our SDPA's conventions. Two usual mistakes are refuted on exact
counterexamples, and shown to pass exactly the cases a careless test would try.
"""

import itertools

import sympy

from proofs._narrate import Derivation
from spec import online_softmax as osm

NEG_INF = sympy.S.NegativeInfinity


def _compositions(size: int) -> list[list[int]]:
    """Every way to cut ``size`` keys into consecutive non-empty blocks (2^(size−1) of them)."""
    result = []
    for cuts in itertools.product([False, True], repeat=size - 1):
        lengths, current = [], 1
        for cut in cuts:
            if cut:
                lengths.append(current)
                current = 1
            else:
                current += 1
        lengths.append(current)
        result.append(lengths)
    return result


def _blocks(
    scores: list[sympy.Expr], values: list[sympy.Expr], lengths: list[int]
) -> list[tuple[list[sympy.Expr], list[sympy.Expr]]]:
    blocks, start = [], 0
    for length in lengths:
        blocks.append((scores[start : start + length], values[start : start + length]))
        start += length
    return blocks


def main() -> None:
    """Derive the merge's laws and the fold's result; refute two usual mistakes."""
    d = Derivation(
        "Online softmax: folding block states (m, ℓ, o) gives softmax(s)·V and log Σ e^s",
        "book §8.2–8.3, softmax(QKᵀ/√D)V; Milakov & Gimelshein 2018; FlashAttention",
    )
    ind = osm.partition_induction()
    d.claim(
        sympy.Eq(
            sympy.Symbol("o_B") / sympy.Symbol("ℓ_B"),
            ind.y(ind.blocks) / ind.z(ind.blocks),
            evaluate=False,
        ),
        "for any cut points a_0 < a_1 < … < a_B of the keys (B symbolic), folding the block "
        "states with ⊕ from (−∞, 0, 0) gives o_B/ℓ_B = Σ χ_j e^{s_j} v_j / Σ χ_j e^{s_j} "
        "(softmax over the allowed keys, times V) and m_B + log ℓ_B = log Σ χ_j e^{s_j}.",
    )
    a, b = osm.state_symbols("a"), osm.state_symbols("b")
    d.step(
        "Definitions. Block state: m = max s_j, ℓ = Σ e^{s_j − m}, o = Σ e^{s_j − m} v_j. "
        "Merge (m, ℓ, o) ⊕ (m′, ℓ′, o′), M = max(m, m′):",
        sympy.Matrix(osm.merge(a, b, safe=False)),
    )

    up, down = osm.rescale_exponent_cases()
    d.step("Stability: M − m in the two cases m′ = m + t and m′ = m − t (t > 0)", (up, down))
    d.check_true(
        "M − m ≥ 0 in both cases (= t and = 0), so every rescale e^{m−M} ≤ 1: no overflow",
        bool(up == sympy.Symbol("t", positive=True) and down == 0),
        strength="symbolic",
    )

    free_shift = sympy.Symbol("M", real=True)
    d.step(
        "Representation R(m, ℓ, o) = (ℓe^m, oe^m) = (Σ e^{s_j}, Σ e^{s_j} v_j). Rescaling both "
        "states to any common M keeps R: ℓe^{m−M}e^M = ℓe^m",
    )
    for residual in osm.homomorphism_residuals(free_shift):
        d.check_zero(
            "R(a ⊕_M b) − R(a) − R(b), M a free real symbol", residual, strength="symbolic"
        )
    for residual in osm.homomorphism_residuals():
        d.check_zero("R(a ⊕ b) − R(a) − R(b), M = max(m, m′)", residual, strength="symbolic")

    d.step("Merge laws, componentwise for symbolic finite states a, b, c")
    for name, residual in zip("mℓo", osm.associativity_residuals(), strict=True):
        d.check_zero(f"associativity, component {name}", residual, strength="symbolic")
    for name, residual in zip("mℓo", osm.commutativity_residuals(), strict=True):
        d.check_zero(f"commutativity, component {name}", residual, strength="symbolic")
    left, right = osm.identity_residuals()
    for name, l_res, r_res in zip("mℓo", left, right, strict=True):
        d.check_zero(f"(−∞, 0, 0) ⊕ a = a, component {name}", l_res, strength="symbolic")
        d.check_zero(f"a ⊕ (−∞, 0, 0) = a, component {name}", r_res, strength="symbolic")
    literal = osm.merge(osm.IDENTITY, osm.IDENTITY, safe=False)
    d.check_true(
        "taken literally, (−∞,0,0) ⊕ (−∞,0,0) is 0·e^{−∞+∞} = NaN (sympy: "
        f"{literal[1]}): hence the kernel's safe shift",
        literal[1] is sympy.nan,
        strength="finite",
    )
    d.check_true(
        "with the safe shift (0 where M = −∞), (−∞,0,0) ⊕ (−∞,0,0) = (−∞,0,0)",
        osm.merge(osm.IDENTITY, osm.IDENTITY) == osm.IDENTITY,
        strength="symbolic",
    )

    d.step(
        "Induction on the number of folded blocks k (P(k): R(state_k) = (Z_k, Y_k), "
        "Z_k = Σ_{j=a_0}^{a_k−1} χ_j e^{s_j}, Y_k likewise with v_j). Base: R(−∞, 0, 0) = "
        "(0, 0) = empty sums",
        ind.z(ind.k),
    )
    for residual in osm.induction_base():
        d.check_zero("R(identity) − (Z_0, Y_0)", residual, strength="symbolic")
    d.step(
        "Step: state_k = (m, Z_k e^{−m}, Y_k e^{−m}) merged with block k's state "
        "(keys a_k … a_{k+1}−1, any maximum); sums over adjacent ranges join",
    )
    for residual in osm.induction_step():
        d.check_zero("R(state_k ⊕ block_k) − (Z_{k+1}, Y_{k+1})", residual, strength="symbolic")
    d.note("So P(B) holds for every B ≥ 0 and every choice of cut points (any partition).")

    out, ratio, lse, log_z = osm.folded_output_and_lse()
    d.step("Finish: o_B/ℓ_B and m_B + log ℓ_B for a state with R = (Z_B, Y_B), Z_B > 0", out)
    d.check_equal("o_B/ℓ_B = Y_B/Z_B (e^{−m_B} cancels)", out, ratio, strength="symbolic")
    d.check_equal("m_B + log ℓ_B = log Z_B = log Σ χ_j e^{s_j}", lse, log_z, strength="symbolic")
    folded, target = osm.unmasked_softmax_target()
    d.step(
        "Unmasked keys 0 … N−1 (χ_j = 1): Y_B/Z_B against Σ_i α_i v_i with α from "
        "spec.softmax (N symbolic)",
        target,
    )
    d.check_equal("Y_B/Z_B = Σ_i softmax(s)_i v_i", folded, target, strength="symbolic")

    d.step(
        "Masked conventions, exact on 4 keys (s = (−∞, 0, 2, −∞) and all masked), "
        "for all 8 partitions into consecutive blocks"
    )
    values: list[sympy.Expr] = list(sympy.symbols("v0:4", seq=True, real=True))
    masked = [NEG_INF, sympy.S.Zero, sympy.Integer(2), NEG_INF]
    everything_masked = [NEG_INF] * 4
    d.check_true(
        "a fully masked block has state (−∞, 0, 0) (the identity)",
        osm.block_state([NEG_INF, NEG_INF], values[:2]) == osm.IDENTITY,
        strength="finite",
    )
    for lengths in _compositions(4):
        state = osm.fold(_blocks(masked, values, lengths))
        got, got_lse = osm.finish(state)
        expected = osm.softmax_output(masked, values)
        d.check_equal(
            f"blocks {lengths}: output = softmax over allowed keys · v",
            got,
            expected,
            strength="finite",
        )
        d.check_equal(
            f"blocks {lengths}: lse = log(e^0 + e^2)",
            got_lse,
            sympy.log(1 + sympy.exp(2)),
            strength="finite",
        )
        none_out, none_lse = osm.finish(osm.fold(_blocks(everything_masked, values, lengths)))
        d.check_true(
            f"blocks {lengths}, every key masked: output 0 and lse −∞ (our SDPA's convention)",
            none_out == 0 and none_lse == NEG_INF,
            strength="finite",
        )

    d.step(
        "Counterexamples: two usual mistakes, on s = (0, 1), v = (1, 0), one key per block; "
        "the right answer is e^0·1/(e^0 + e^1) = 1/(1 + e)"
    )
    right_answer = osm.softmax_output([sympy.S.Zero, sympy.S.One], [sympy.S.One, sympy.S.Zero])
    zero, one = sympy.S.Zero, sympy.S.One
    first, second = osm.block_state([zero], [one]), osm.block_state([one], [zero])
    for name, wrong_merge in (
        ("rescaling only o (ℓ + ℓ′)", osm.merge_rescaling_only_o),
        ("forgetting to rescale the running ℓ", osm.merge_forgetting_running_ell),
    ):
        _, ell, o = wrong_merge(first, second)
        wrong = sympy.simplify(o / ell - right_answer)
        d.check_true(f"{name}: o/ℓ − 1/(1+e) = {wrong} ≠ 0", wrong != 0, strength="finite")
    m0, t = sympy.Symbol("m", real=True), sympy.Symbol("t", positive=True)
    same = osm.merge_rescaling_only_o((m0, a[1], a[2]), (m0, b[1], b[2]))
    d.check_true(
        "…yet 'rescaling only o' is exact when all block maxima are equal (m = m′): tests "
        "with equal scores cannot see it",
        all(
            r == 0 for r in osm.state_residuals(same, osm.merge((m0, a[1], a[2]), (m0, b[1], b[2])))
        ),
        strength="symbolic",
    )
    falling = (m0 - t, b[1], b[2])
    late = osm.merge_forgetting_running_ell((m0, a[1], a[2]), falling)
    d.check_true(
        "…and 'forgetting the running ℓ' is exact when the maximum comes first (m ≥ m′): "
        "tests with sorted scores cannot see it",
        all(r == 0 for r in osm.state_residuals(late, osm.merge((m0, a[1], a[2]), falling))),
        strength="symbolic",
    )
    d.qed()


if __name__ == "__main__":
    main()
