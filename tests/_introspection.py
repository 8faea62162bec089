"""Which module-level names the tests that enumerate a module's API should see.

``make mutation`` runs the suite on a copy of ``impl``/``spec`` rewritten by mutmut:
each function ``f`` becomes a trampoline beside ``x_f__mutmut_orig``,
``x_f__mutmut_1`` … and a dict ``mutants_x_f__mutmut``. Those are the tool's, not
the API's; a test that enumerates public names skips them, so it judges the same
API with or without the rewrite.
"""


def is_mutation_artifact(name: str) -> bool:
    """True for the names mutmut's trampolines add to a module."""
    return "__mutmut" in name
