"""Sampled mutants that survive the suite because they cannot change behaviour.

``tests/mutation.py`` leaves these out of the score's denominator. Each entry is a
mutmut mutant name (``mutmut show NAME`` prints its diff) and the reason no test
can tell it from the original: the changed code computes the same values for every
input the function accepts, or it changes only an error message's wording (the
argument's name, which the adversarial harness checks, stays in it).
"""

EQUIVALENT: dict[str, str] = {}
