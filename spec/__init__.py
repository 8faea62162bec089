"""nndl8.spec: sympy derivations of chapter 8's lemmas and laws.

Each module derives its results from the definitions (sympy simplifies,
solves or differentiates; nothing is a hard-coded answer) and is the twin of
the ``impl`` module of the same name. ``spec`` never imports ``impl``: the
tests join them.
"""
