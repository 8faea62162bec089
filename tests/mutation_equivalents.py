"""Sampled mutants that survive the suite because they cannot change behaviour.

``tests/mutation.py`` leaves these out of the score's denominator. Each key is a
mutmut mutant name (``make mutation`` prints its diff; ``mutmut show NAME`` once
``mutants/`` exists) and each value the reason no test can tell it from the
original. Two kinds of reason are accepted:

* ``equivalent: …`` — the changed code computes the same values, raises the same
  errors and warns the same for every input the function accepts (e.g. a default
  argument spelled out: ``np.tri(n, m)`` is ``np.tri(n, m, k=0)``);
* ``message: …`` — it changes only the wording of an error message or a report's
  text; the argument's name and the expected value, which the tests check, remain.

The list is sorted by section; a mutant that the suite starts to kill is reported as
stale by the run and must be removed.
"""

EQUIVALENT: dict[str, str] = {
    # ---------------------------------------------------------------- attention family
    # (impl: _validation, _numerics, attention, attention_backward, blocked_attention,
    #  multihead, scores, softmax; spec: attention, attention_backward, online_softmax,
    #  softmax, scores)
    #
    "impl._validation.x_size__mutmut_14": (
        "message: only the default reason's wording in the out-of-range error changes; the "
        "argument's name and the allowed range [low, high] stay in it"
    ),
    "impl._validation.x_symmetric_matrix__mutmut_45": (
        "message: with tolerance 0 the error gains a stray 'XXXX' before the remedy; the "
        "argument's name, the largest asymmetry and its index stay in it"
    ),
    "impl.attention.x__causal__mutmut_8": (
        "equivalent: k=0 is np.tri's default diagonal offset, so np.tri(L, S, dtype=bool) is "
        "the same lower-triangular mask"
    ),
    "impl.attention.x_reinforce_gradient_estimate__mutmut_26": (
        "equivalent: np.dtype(None) is float64, so the allocation check sizes the same bytes"
    ),
    "impl.blocked_attention.x__blas_thread_budget__mutmut_20": (
        "equivalent: a BLAS entry without 'filepath' is read as 'XXXX' instead of '', and "
        "'numpy' is in neither, so the same libraries count as NumPy's"
    ),
    "impl.scores.xǁAdditiveScoreParametersǁinitialize__mutmut_34": (
        "message: only the allocation error's description of what is drawn ('W, U, v') is "
        "lower-cased; the arguments named (key_dim, query_dim and hidden_dim) stay"
    ),
    "impl.softmax.x_softmax_jacobian__mutmut_19": (
        "message: only the allocation error's description of the Jacobian changes; the "
        "argument named (logits) and the byte count stay"
    ),
    "spec.online_softmax.x_commutativity_residuals__mutmut_4": (
        "equivalent: the two states get the fresh, distinct names m_A, ell_A, ... instead of "
        "m_a, ...; a ⊕ b − b ⊕ a reduces to the same zeros (no other symbol is named so)"
    ),
    "spec.online_softmax.x_state_residuals__mutmut_10": (
        "equivalent: both arguments are States (3-tuples, as typed and as every caller "
        "builds them), so zip(strict=False) pairs the same three components"
    ),
    "spec.softmax.x_scaled_softmax_jacobian__mutmut_16": (
        "equivalent: u is built with len(logits) symbols, so zip(u, logits) has equal "
        "lengths and strict=None pairs the same entries"
    ),
    # ------------------------------------------------------ end of the attention family
    #
    #
    # ------------------------------------------------------ recurrent and structured
    # (impl: recurrent, recurrent_backward, pointer_network, structured_attention,
    #  hierarchical_attention; spec: recurrent, recurrent_backward, rounding_error*,
    #  structured_attention, structured_memory, complexity, scaled_dot_variance)
    #
    "impl.pointer_network.x__beam_search__mutmut_34": (
        "equivalent: zip(beams, rows, strict=False): rows gets exactly one row per beam "
        "(one append per iteration of `for prefix, _ in beams` just above), so the lengths "
        "always agree and strict=True is a self-check that cannot fire"
    ),
    "spec.rounding_error_recurrent.x_rule_dominates__mutmut_16": (
        "equivalent: zip(sign_choice, signs, strict=False): sign_choice comes from "
        "itertools.product((1, -1), repeat=len(signs)), so it has len(signs) entries always"
    ),
    "spec.rounding_error_recurrent.x_sum_rule_holds__mutmut_14": (
        "equivalent: error(a + e_a + b − e_b): rule_dominates substitutes e_b by c·e_b for "
        "both c = ±1 (the box is symmetric), so −e_b only swaps two vertices it checks; the "
        "function has no arguments and returns the same True"
    ),
    "spec.structured_attention.x_backward_induction__mutmut_120": (
        "equivalent: labels (1, 1) instead of (0, 1) in the base: suffix_score(chain, N − 1, "
        "N − 1).doit() is the empty suffix's score, the constant 0 (no free symbols), so "
        ".subs(z[N − 1], label) gives 0 for either label and base = (1, 1) both ways"
    ),
    # ------------------------------------------------- end of recurrent and structured
    #
    #
    # ---------------------------------------------------------------- memories
    # (impl: hopfield*, continuous_hopfield, modern_hopfield, bidirectional_memory,
    #  memory_network, neural_turing_machine, neural_stack, set_memory, tree_memory;
    #  spec: hopfield*, neural_turing_machine, memory_network, modern/continuous_hopfield)
    #
    "impl.hopfield.x__flatten__mutmut_3": (
        "equivalent: _flatten only receives a _Network built by _network, whose weights"
        " passed _check_weights, which refuses any W with shape[-1] != shape[-2]; so"
        " W.shape[-2] is W.shape[-1] = M for every network it sees"
    ),
    "impl.memory_network.x_position_encoding__mutmut_48": (
        "equivalent: j = 1..J as int64 instead of float64; j / J and 2 * j / J are true"
        " divisions that convert j exactly to float64 first (J <= 2**40 < 2**53, so 2 * j is"
        " exact too), giving bit-identical values, and the table is cast to the chosen dtype"
    ),
    "spec.hopfield.x_canonical_sums__mutmut_29": (
        "equivalent: the loop sentinel only has to differ from expr on entry; a sympy Expr"
        " never equals the str '' (Basic.__eq__ does not parse strings) just as it never"
        " equals None, so the loop runs the same passes and returns the same expression"
    ),
    "spec.hopfield_capacity.x_crosstalk_term_count__mutmut_13": (
        "equivalent: the summand is the constant 1, so Σ_{j=1}^{M-1} Σ_{n=1}^{N-1} 1 does not"
        " consult the bound dummies' assumptions; sympy returns (M - 1)*(N - 1) with an"
        " identical srepr (checked), and the function takes no arguments"
    ),
    "spec.neural_turing_machine.x_convolution_mass_factorises__mutmut_12": (
        "equivalent: only the shift's symbol names change (XXsXX_k, still distinct from the"
        " w_j); Σ_i Σ_j w_j s_((i-j) mod N) = (Σ_j w_j)(Σ_k s_k) is a polynomial identity, so"
        " the expanded residual is 0 for every size whatever the names (checked N = 0..6)"
    ),
    "spec.neural_turing_machine.x_read_linearity_residual__mutmut_13": (
        "equivalent: the first matrix's symbols are named None_r_c instead of A_r_c, still"
        " real and distinct from B_r_c; read is linear, so the residual is the zero 1xD row"
        " for every (N, D) and no symbol name appears in it"
    ),
    #
    # ---------------------------------------------------------------- end of memories
    #
    #
    # ------------------------------------------------- kit: attention and backward
    # (impl.testing: attention, backward, bounds, tolerances, registry, strategies,
    #  references)
    #
    "impl.testing.backward.xǁCellCaseǁinputs__mutmut_25": (
        "equivalent: zip(names, self.weights.arrays(), strict=False) — TorchRNNWeights.arrays() "
        "always returns exactly its four arrays, as many as the four names, so strict=True "
        "never raises and both zips give the same pairs"
    ),
    "impl.testing.bounds.x_log_softmax_bound__mutmut_50": (
        "equivalent: the fallback for a non-finite row maximum m (0.0 → 1.0) only enters rows "
        "where m is not finite; its one caller (log_softmax_reference) passes the log-softmax "
        "of the logits, so that happens only for a row with no finite log-weight, and every "
        "entry of such a row is replaced by 0 (np.where(finite, bound, 0.0)); seen identical "
        "on 16 000 drawn rows with −inf/+inf/NaN/huge entries in all four precisions"
    ),
    "impl.testing.tolerances.x_assert_close__mutmut_3": (
        "message: err_msg's default ('' → 'XXXX') is only appended to the assertion "
        "messages (shape, dtype, np.testing.assert_allclose); which assertion fires, and "
        "the shapes/values it reports, do not change"
    ),
    #
    # ------------------------------------------ end of kit: attention and backward
    #
    #
    # ------------------------------------------------- kit: memory and recurrent
    # (impl.testing: memory, recurrent)
    #
    "impl.testing.memory.x__addressing_cases__mutmut_176": (
        "equivalent: the drawn integer only seeds np.random.default_rng, which takes any"
        " non-negative int; every seed gives an independent PCG64 stream, so an unbounded seed"
        " range draws the cases from the same distribution, and no check, report or test"
        " depends on which seed labels a case (the report prints the case, not the seed)"
    ),
    "impl.testing.memory.x__addressing_cases__mutmut_177": (
        "equivalent: leaving out seed 0 of 2^32 seeds of np.random.default_rng leaves the"
        " distribution of drawn cases unchanged (each seed is an independent PCG64 stream);"
        " no check, report or test depends on which seed labels a case"
    ),
    "impl.testing.recurrent.x_lstm_reference__mutmut_37": (
        "equivalent: padding h with zeros also when p = 0 concatenates an empty (B, 0) float64"
        " block (h is then (B, m): m - h.shape[1] = 0), which returns a float64 copy of h with"
        " the same values; lstm_cell reads it and never writes it"
    ),
    "impl.testing.recurrent.x_recurrent_margins__mutmut_95": (
        "equivalent: the drawn integer only seeds the case's np.random.default_rng; seeds"
        " below 2^33 instead of 2^32 label independent PCG64 streams alike, so the cases (and"
        " the margins) have the same distribution and the same seed still gives the same run"
        " (the function's contract); no figure or test depends on which seeds are drawn"
    ),
    # ------------------------------------------ end of kit: memory and recurrent
    #
    #
    # ------------------------------------------------- kit: cli, report, runner
    # (impl.testing: report, runner, cli; impl.cli)
    #
    "impl.testing.cli.x__parser__mutmut_41": "equivalent: drops default=None from --dtype; "
    "argparse's default for an optional argument is None already, so args.dtype is the same "
    "for every command line",
    # ------------------------------------------ end of kit: cli, report, runner
}
