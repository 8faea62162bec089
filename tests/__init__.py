"""nndl8's properties and examples: impl checked against spec.

``tests.strategies`` (hypothesis strategies) and ``tests.tolerances``
(``assert_close``) are importable from a checkout, so that engineers can point
our properties at their own functions (see the README).
"""
