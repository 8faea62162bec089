"""nndl8.impl: typed NumPy implementations of chapter 8's mechanisms.

One module per mechanism family (``softmax``, ``scores``, ``attention``,
``multihead``, ...). Arrays are batched row sets ``(..., N, D)`` (the book's
column vectors x_n are our rows), float32 or float64; anything random takes an
explicit ``numpy.random.Generator``.
"""
