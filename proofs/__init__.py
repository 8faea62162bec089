"""Runnable derivations of chapter 8's lemmas and experiments.

``python -m proofs`` (or ``nndl8 proofs``) runs every proof; ``python -m proofs
NAME|EXERCISE|SECTION ...`` runs the named ones, an exercise's (``8-6``) or a
section's (``8.6.1``); ``--list`` lists them from ``proofs._catalogue``;
``--format markdown|html [--output DIR]`` writes them as a document
(``proofs._render``). Each proof module
has a docstring naming its lemma and book section and a ``main()`` that prints
the claim, each step with its reason, and ends in a checked equality or
inequality (raising ``proofs._narrate.ProofError`` if it does not hold).
Proofs that run experiments accept ``main(quick=True)`` for a smaller run
(used by the test suite; ``python -m proofs --quick``).
"""
