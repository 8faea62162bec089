"""NTM addressing laws (§8.5.2): every stage maps distributions to distributions, and more.

Graves et al. (2014), eqs. 5–9 and 3–4, as restated in book §8.5.2. Derived
from ``spec.neural_turing_machine``: the total mass and the sign of each
addressing stage (content, interpolation, circular shift, sharpening), the
rotation by a one-hot shift (symbolic N), sharpening at γ = 1 and as γ → ∞,
invariance of content addressing under scaling the key by c > 0, and the
write laws (weight 0 is the identity; weight 1 with e = 1 replaces the slot by
a). Each hypothesis (g ∈ [0, 1], s ≥ 0, Σ s = 1, a unique maximum, c > 0,
e = 1) is dropped in a checked counterexample. Finally the impl is checked
against the spec on one concrete head.
"""

import numpy as np
import sympy

from impl import neural_turing_machine as ntm
from proofs._narrate import Derivation
from spec import neural_turing_machine as spec

SIZES = range(1, 6)
"""Concrete N for the laws sympy cannot reduce for symbolic N (stated in the output)."""


def main() -> None:
    """Derive the NTM addressing and write laws and check the impl on an example."""
    d = Derivation(
        "NTM addressing laws: content, interpolation, shift and sharpening map the simplex to "
        "the simplex; rotation, limits, scale invariance and the write laws",
        "book §8.5.2; Graves, Wayne & Danihelka 2014, eqs. 3–9",
    )
    d.claim(
        sympy.Eq(sympy.Sum(spec.w[spec.i], (spec.i, 0, spec.N - 1)), 1, evaluate=False),
        "after each stage the weights are ≥ 0 and sum to 1, for distributions in and "
        "β > 0, g ∈ [0, 1], s a distribution, γ ≥ 1.",
    )

    # --- content
    d.note(f"Content addressing (checked for N in {list(SIZES)}; cosines as real symbols z_i):")
    for n in SIZES:
        law = spec.content_simplex_law(n)
        d.check_equal(f"N = {n}: Σ_i softmax_i(β z_i) = 1", law.total, 1, strength="finite")
        d.check_true(
            f"N = {n}: every exp(β z_i)/Σ exp(β z_j) ≥ 0",
            law.entries_nonnegative,
            strength="finite",
        )

    # --- interpolation
    mass = spec.symbolic_interpolation_mass()
    d.step(
        "Interpolation, symbolic N: Σ_i (g c_i + (1 − g) p_i) splits into g Σ c + (1 − g) Σ p; "
        "with Σ c = Σ p = 1 it reduces to",
        mass,
    )
    d.check_equal("Σ w^g = 1 for symbolic N", mass, 1, strength="symbolic")
    for n in SIZES:
        law = spec.interpolation_simplex_law(n)
        d.check_equal(
            f"N = {n}: Σ w^g = 1 (last entries eliminated)", law.total, 1, strength="finite"
        )
        d.check_true(
            f"N = {n}: g c_i + ḡ p_i ≥ 0 for g, ḡ = 1 − g ≥ 0 (assumptions)",
            law.entries_nonnegative,
            strength="finite",
        )
    bad_gate = spec.interpolate(
        [sympy.S.One, sympy.S.Zero], [sympy.S.Zero, sympy.S.One], 3 / sympy.S(2)
    )
    d.step("Drop g ∈ [0, 1]: g = 3/2, w^c = (1, 0), w_{t−1} = (0, 1) gives", bad_gate.T)
    d.check_true(
        "counterexample: a negative weight appears", bool(bad_gate[1] < 0), strength="finite"
    )

    # --- shift
    d.note(f"Shift (circular convolution with Mod; checked for N in {list(SIZES)}):")
    for n in SIZES:
        residual = spec.convolution_mass_factorises(n)
        d.check_zero(f"N = {n}: Σ_i (w ⊛ s)(i) − (Σ_j w(j))(Σ_k s(k))", residual, strength="finite")
        law = spec.convolution_simplex_law(n)
        d.check_equal(f"N = {n}: Σ w̃ = 1·1 = 1", law.total, 1, strength="finite")
        d.check_true(
            f"N = {n}: w̃(i) is a sum of products of non-negatives",
            law.entries_nonnegative,
            strength="finite",
        )
    half = sympy.Rational(1, 2)
    signed = spec.circular_convolution(
        [sympy.S.One, sympy.S.Zero, sympy.S.Zero],
        spec.ring_shift({-1: -half, 0: sympy.S.One, 1: half}, 3),
    )
    d.step(
        "Drop s ≥ 0: s = (−1/2, 1, 1/2) at offsets (−1, 0, +1) (still sums to 1), w = δ_0", signed.T
    )
    d.check_true(
        "counterexample: w̃ has a negative entry",
        any(bool(x < 0) for x in signed),
        strength="finite",
    )
    heavy = spec.circular_convolution(
        [half, half], spec.ring_shift({0: sympy.S.One, 1: sympy.S.One}, 2)
    )
    d.check_true(
        "drop Σ s = 1: s = (0, 1, 1) gives total mass 2 ≠ 1",
        sum(heavy, sympy.S.Zero) == 2,
        strength="finite",
    )

    rotation = spec.shift_by_offsets({-1: sympy.S.Zero, 0: sympy.S.Zero, 1: sympy.S.One})
    d.step(
        "One-hot shift at +1, symbolic N and i: Σ_{r=−1}^{1} δ_{r,1} w((i − r) mod N) =", rotation
    )
    d.check_zero(
        "w̃(i) − w((i − 1) mod N), symbolic N",
        spec.rotation_residual_symbolic(),
        strength="symbolic",
    )
    d.check_equal(
        "N = 4, Mod form: w ⊛ δ_{+1} = (w_3, w_0, w_1, w_2)",
        spec.rotation_residual_concrete(4),
        sympy.zeros(4, 1),
        strength="finite",
    )
    for n in SIZES:
        d.check_equal(
            f"N = {n}: w ⊛ δ_0 = w",
            spec.identity_shift_residual(n),
            sympy.zeros(n, 1),
            strength="finite",
        )

    # --- sharpening
    d.note(f"Sharpening with symbolic γ (checked for N in {list(SIZES)}):")
    for n in SIZES:
        law = spec.sharpen_simplex_law(n)
        d.check_equal(f"N = {n}: Σ_i w_i^γ / Σ_j w_j^γ = 1", law.total, 1, strength="finite")
        d.check_true(f"N = {n}: entries ≥ 0", law.entries_nonnegative, strength="finite")
    d.check_equal(
        "Σ_i w(i)^γ / Σ_j w(j)^γ = 1 for symbolic N and γ (sharpening keeps a distribution)",
        spec.symbolic_sharpen_mass(),
        1,
        strength="symbolic",
    )
    d.step("γ = 1, symbolic N: w(i)/Σ_j w(j) with Σ_j w(j) = 1", spec.symbolic_sharpen(sympy.S.One))
    d.check_zero(
        "sharpen(w, 1)(i) − w(i), symbolic N", spec.sharpen_identity_residual(), strength="symbolic"
    )
    third, sixth = sympy.Rational(1, 3), sympy.Rational(1, 6)
    limit = spec.sharpen_limit([half, third, sixth])
    d.step("γ → ∞ for w = (1/2, 1/3, 1/6): sympy.limit of each entry", sympy.Matrix(limit).T)
    d.check_equal(
        "the limit is the one-hot on the unique maximum",
        sympy.Matrix(limit),
        sympy.Matrix([1, 0, 0]),
        strength="finite",
    )
    general = spec.sharpen_limit_symbolic_ratio()
    d.step(
        "General unique maximum: w_max^γ/Σ w^γ = 1/(1 + Σ_{j≠max} ρ_j^γ) with "
        "ρ_j = 1/(1 + t_j), t_j > 0; lim_{γ→∞} =",
        general,
    )
    d.check_equal("lim = 1 whenever every other ratio is < 1", general, 1, strength="symbolic")
    two_fifths = sympy.Rational(2, 5)
    tied = spec.sharpen_limit([two_fifths, two_fifths, sympy.Rational(1, 5)])
    d.check_equal(
        "drop 'unique maximum': w = (2/5, 2/5, 1/5) tends to (1/2, 1/2, 0), not one-hot",
        sympy.Matrix(tied),
        sympy.Matrix([half, half, 0]),
        strength="finite",
    )
    flattened = spec.sharpen([half, third, sixth], half)
    d.check_true(
        "drop γ ≥ 1: γ = 1/2 lowers the largest weight below 1/2 (it flattens instead)",
        bool(sympy.simplify(flattened[0] - half) < 0),
        strength="finite",
    )

    # --- content scale invariance
    c = sympy.Symbol("c", positive=True)
    d.check_zero(
        "cos(c k, m) − cos(k, m) for c > 0, D = 3 (so w^c is unchanged)",
        spec.key_scaling_residual(3, c),
        strength="finite",
    )
    ratio_negative = spec.key_scaling_ratio(3, -c)
    d.step("Drop c > 0: cos(−c k, m) / cos(k, m) reduces (cancel) to", ratio_negative)
    d.check_equal(
        "counterexample: a negative scale flips every cosine", ratio_negative, -1, strength="finite"
    )
    d.check_equal(
        "and with c > 0 the ratio is 1", spec.key_scaling_ratio(3, c), 1, strength="finite"
    )

    # --- write
    m, weight, e, a = sympy.symbols("m w e a", seq=True, real=True)
    entry = spec.write_entry(m, weight, e, a)
    d.step("Write, one entry (the write is elementwise): m' = m(1 − w e) + w a", entry)
    d.check_equal(
        "w = 0: m' = m (the slot is untouched)", entry.subs(weight, 0), m, strength="symbolic"
    )
    d.check_equal(
        "w = 1, e = 1: m' = a (erased, then replaced)",
        entry.subs({weight: 1, e: 1}),
        a,
        strength="symbolic",
    )
    d.check_equal(
        "m' − m = w (a − e m): every slot moves in proportion to its weight",
        sympy.expand(entry - m),
        sympy.expand(weight * (a - e * m)),
        strength="symbolic",
    )
    d.check_zero(
        "drop e = 1: w = 1, e = 1/2 leaves m/2 of the old content: m' − a − m/2",
        entry.subs({weight: 1, e: half}) - a - m / 2,
        strength="symbolic",
    )

    memory_symbols = spec.real_matrix("M", 3, 2)
    weights_symbols = spec.nonnegative_symbols("w", 3)
    erase_symbols, add_symbols = spec.nonnegative_symbols("e", 2), spec.real_matrix("a", 1, 2)
    erased = sympy.Matrix(
        3, 2, lambda i, j: memory_symbols[i, j] * (1 - weights_symbols[i] * erase_symbols[j])
    )
    added = erased + sympy.Matrix(3, 2, lambda i, j: weights_symbols[i] * add_symbols[0, j])
    d.check_equal(
        "the whole write (spec.write, N = 3, D = 2) is Graves's two stages typed from the paper: "
        "erase M̃(i) = M(i) ∘ (1 − w(i) e), then add M(i) = M̃(i) + w(i) a",
        spec.write(memory_symbols, weights_symbols, erase_symbols, list(add_symbols)),
        added,
        strength="finite",
    )

    # --- impl on one example
    memory = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    key_value = np.array([1.0, 0.2, 0.9])
    previous = np.array([0.1, 0.2, 0.3, 0.4])
    shift = np.array([0.1, 0.7, 0.2])
    stages = ntm.address_stages(
        key_value, memory, previous, key_strength=3.0, gate=0.6, shift=shift, sharpening=2.0
    )
    k_syms, m_syms = spec.real_matrix("k", 3, 1), spec.real_matrix("M", 4, 3)
    content = spec.content_weights(k_syms, m_syms, sympy.S(3))
    subs = dict(zip(list(k_syms), key_value.tolist(), strict=True)) | dict(
        zip(list(m_syms), memory.ravel().tolist(), strict=True)
    )
    wc = [sympy.nsimplify(x.subs(subs)) for x in content]
    wg = spec.interpolate(wc, [sympy.nsimplify(v) for v in previous], sympy.Rational(3, 5))
    ring = spec.ring_shift({r - 1: sympy.nsimplify(v) for r, v in enumerate(shift)}, 4)
    expected = spec.sharpen(list(spec.circular_convolution(list(wg), ring)), sympy.S(2))
    expected_numbers = np.array([float(x) for x in expected])
    d.note(f"impl weights {np.round(stages.weights, 6)}")
    d.note(f"spec weights {np.round(expected_numbers, 6)}")
    d.check_true(
        "impl.address_stages = spec (content → interpolate → shift → sharpen) to 1e-12",
        bool(np.allclose(stages.weights, expected_numbers, rtol=0, atol=1e-12)),
        strength="numeric",
    )
    d.qed()


if __name__ == "__main__":
    main()
