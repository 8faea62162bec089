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
    # ------------------------------------------ end of kit: cli, report, runner
}
