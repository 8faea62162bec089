"""Runnable derivations of chapter 8's lemmas and experiments.

``python -m proofs`` runs every proof; ``python -m proofs NAME [NAME ...]``
runs the named ones; ``python -m proofs --list`` lists them. Each proof module
has a docstring naming its lemma and book section and a ``main()`` that prints
the claim, each step with its reason, and ends in a checked equality or
inequality (raising ``proofs._narrate.ProofError`` if it does not hold).
Proofs that run experiments accept ``main(quick=True)`` for a smaller run
(used by the test suite; ``python -m proofs --quick``).
"""
