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
    # ------------------------------------------ end of kit: memory and recurrent
    #
    #
    # ------------------------------------------------- kit: cli, report, runner
    # (impl.testing: report, runner, cli; impl.cli)
    #
    # ------------------------------------------ end of kit: cli, report, runner
}
