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
    # ------------------------------------------------- end of recurrent and structured
    #
    #
    # ---------------------------------------------------------------- memories
    # (impl: hopfield*, continuous_hopfield, modern_hopfield, bidirectional_memory,
    #  memory_network, neural_turing_machine, neural_stack, set_memory, tree_memory;
    #  spec: hopfield*, neural_turing_machine, memory_network, modern/continuous_hopfield)
    #
    # ---------------------------------------------------------------- end of memories
    #
    #
    # ------------------------------------------------- kit: attention and backward
    # (impl.testing: attention, backward, bounds, tolerances, registry, strategies,
    #  references)
    #
    # ------------------------------------------ end of kit: attention and backward
    #
    #
    # ------------------------------------------------- kit: memory and recurrent
    # (impl.testing: memory, recurrent)
    #
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
