"""Exercise 8-1: an LSTM with input size n and hidden size m has 4m(m + n + 1) parameters (§6.5).

The count is derived by summing the shapes of the three gates' and the
candidate's arrays (``spec.recurrent``), compared with the book's closed form,
then with PyTorch's two-bias convention and the GRU; its growth in m and the
ratio of recurrent to input weights are derived; a table of counts is checked
against the arrays of actual ``impl.recurrent`` cells.
"""

import numpy as np
import sympy

from impl import recurrent as cells
from proofs._narrate import Derivation
from spec import recurrent as spec
from spec.recurrent import m, n

TABLE_SIZES = ((1, 1), (2, 3), (10, 20), (100, 128), (300, 512))
"""(n, m) pairs of the printed table (checked with real arrays)."""


def main() -> None:
    """Derive the LSTM/GRU parameter counts and check them against real cells."""
    d = Derivation(
        "Exercise 8-1: LSTM parameter count 4m(m + n + 1)",
        "book: exercise 8-1; LSTM and GRU equations of §6.5",
    )
    book_lstm = 4 * m * (m + n + 1)
    d.claim(sympy.Eq(sympy.Symbol("#θ_LSTM"), book_lstm, evaluate=False), "one bias per gate")

    block = spec.block_shapes(1)
    d.step(
        "Each block (gates i, f, o and candidate c~) computes W x + U h + b with "
        f"W of shape {block.input_matrix}, U of shape {block.state_matrix}, b of shape "
        f"{block.biases[0]}; its count is the sum of the shapes' products",
        block.count(),
    )
    total = spec.lstm_parameter_count(1)
    d.step(f"Sum over the {len(spec.LSTM_BLOCKS)} blocks {spec.LSTM_BLOCKS}", total)
    factored = sympy.factor(total)
    d.step("Factor the sum", factored)
    d.check_equal(
        "summed shapes = book's 4m(m + n + 1)",
        sympy.expand(total - book_lstm),
        0,
        strength="symbolic",
    )
    d.check_true(
        "factor() returns a product with m as a factor (the count is m times per-unit count)",
        isinstance(factored, sympy.Mul) and m in factored.args,
        strength="symbolic",
    )

    general = spec.symbolic_block_count(1)
    d.step("With a symbolic number of blocks g, Σ_{j=1}^{g} (mn + m² + m) =", sympy.factor(general))
    d.check_equal(
        "g = 4 recovers the LSTM count", general.subs(spec.g, 4), total, strength="symbolic"
    )

    two_bias = spec.lstm_parameter_count(2)
    d.step(
        "PyTorch/cuDNN keep two biases b_ih, b_hh per gate; summing again", sympy.factor(two_bias)
    )
    d.check_equal(
        "two-bias LSTM = 4m(m + n + 2)",
        sympy.expand(two_bias - 4 * m * (m + n + 2)),
        0,
        strength="symbolic",
    )

    gru, gru_two = spec.gru_parameter_count(1), spec.gru_parameter_count(2)
    gru_after = spec.gru_parameter_count(1, reset_after=True)
    d.step("GRU (blocks r, z, h~), one bias per gate", sympy.factor(gru))
    d.check_equal(
        "one-bias GRU = 3m(m + n + 1)",
        sympy.expand(gru - 3 * m * (m + n + 1)),
        0,
        strength="symbolic",
    )
    d.check_equal(
        "two-bias GRU = 3m(m + n + 2)",
        sympy.expand(gru_two - 3 * m * (m + n + 2)),
        0,
        strength="symbolic",
    )
    d.step(
        "PyTorch's GRU variant r ⊙ (U h + b_hn) cannot merge b_hn into b_h: "
        "one bias per gate plus b_hn",
        sympy.factor(gru_after),
    )
    d.check_equal(
        "reset-after GRU = 3m(m + n + 1) + m",
        sympy.expand(gru_after - gru - m),
        0,
        strength="symbolic",
    )

    growth = spec.growth_in_hidden_size(total)
    d.step(
        "Growth in m (n fixed): Poly(count, m) has degree "
        f"{growth.degree}, leading coefficient {growth.leading_coefficient}; "
        "lim_{m→∞} count / m² =",
        growth.limit_over_m_squared,
    )
    d.check_true("the count is quadratic in m", growth.degree == 2, strength="symbolic")
    d.check_equal(
        "count / m² → 4 (the four U matrices dominate)",
        growth.limit_over_m_squared,
        4,
        strength="symbolic",
    )
    d.check_true(
        "the count is linear in n (degree 1)",
        sympy.Poly(total, n).degree() == 1,
        strength="symbolic",
    )
    ratio = spec.recurrent_to_input_ratio(4)
    d.step("Recurrent (U) to input (W) weights: 4·m·m / (4·m·n) cancels to", ratio)
    d.check_equal("ratio = m/n", ratio, m / n, strength="symbolic")

    d.note("Hypothesis dropped — 'one bias per gate': the two-bias count differs by 4m:")
    difference = sympy.expand(two_bias - total)
    d.note(f"  4m(m+n+2) − 4m(m+n+1) = {difference}  (≠ 0 for every m ≥ 1)")
    d.check_true(
        "dropping 'one bias per gate' changes the count", difference == 4 * m, strength="symbolic"
    )

    d.step("Table (n, m) → count; every entry also counted from real impl arrays")
    lambdified = {
        "LSTM 1 bias": sympy.lambdify((n, m), total, modules="numpy"),
        "LSTM 2 biases": sympy.lambdify((n, m), two_bias, modules="numpy"),
        "GRU 1 bias": sympy.lambdify((n, m), gru, modules="numpy"),
        "GRU 2 biases": sympy.lambdify((n, m), gru_two, modules="numpy"),
    }
    header = f"  {'n':>5} {'m':>5} | " + " | ".join(f"{name:>13}" for name in lambdified)
    print(header)
    print("  " + "-" * (len(header) - 2))
    rng = np.random.default_rng(0)
    all_match = True
    for size_in, size_hidden in TABLE_SIZES:
        lstm = cells.LSTMParameters.initialize(rng, input_size=size_in, hidden_size=size_hidden)
        gru_cell = cells.GRUParameters.initialize(rng, input_size=size_in, hidden_size=size_hidden)
        from_arrays = {
            "LSTM 1 bias": cells.parameter_count(lstm),
            "LSTM 2 biases": cells.parameter_count(cells.lstm_to_torch(lstm)),
            # The book's GRU has no b_hn: impl's stored arrays without it.
            "GRU 1 bias": cells.parameter_count(gru_cell) - gru_cell.candidate_recurrent_bias.size,
            "GRU 2 biases": cells.parameter_count(cells.gru_to_torch(gru_cell)),
        }
        # impl stores PyTorch's GRU variant, which has m more (b_hn).
        all_match &= cells.parameter_count(gru_cell) == int(
            sympy.lambdify((n, m), gru_after, modules="numpy")(size_in, size_hidden)
        )
        row = []
        for name, formula in lambdified.items():
            expected = int(formula(size_in, size_hidden))
            all_match &= expected == from_arrays[name]
            row.append(f"{expected:>13,}")
        print(f"  {size_in:>5} {size_hidden:>5} | " + " | ".join(row))
    print()
    d.check_true(
        f"spec counts equal impl's counts from array shapes for (n, m) in {TABLE_SIZES}",
        all_match,
        strength="finite",
    )
    d.qed()


if __name__ == "__main__":
    main()
