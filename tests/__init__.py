"""nndl8's properties and examples: impl checked against spec.

The hypothesis strategies and ``assert_close`` the tests use ship in the wheel as
``impl.testing.strategies`` and ``impl.testing.tolerances`` (with the conformance
checks in ``impl.testing``); nothing here is installed.
"""
