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
    # ------------------------------------------ end of kit: cli, report, runner
}
