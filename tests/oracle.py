"""Use nndl8 as a test oracle for your own softmax or attention function.

Each ``check_*`` function runs hypothesis against ``candidate`` and raises
``AssertionError`` (with hypothesis's minimal failing example) if it disagrees
with nndl8's reference or breaks a law of the book. The candidate receives and
returns NumPy arrays; wrap a PyTorch/JAX function with a converter, e.g.
``lambda q, k, v, **kw: torch_fn(*map(torch.from_numpy, (q, k, v)), **kw).numpy()``.

Example::

    from tests.oracle import check_scaled_dot_product_attention
    check_scaled_dot_product_attention(my_attention, max_examples=200)
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.attention import causal_mask, scaled_dot_product_attention
from impl.softmax import softmax
from tests import strategies as nst
from tests.tolerances import assert_close, eps

FloatArray = NDArray[np.floating[Any]]

ORACLE_ATOL_FACTOR = 64.0
"""Absolute tolerance = factor · D · magnitude³ · eps: the rounding a correct
implementation may accumulate in the scores (D products of values ≤ magnitude)
and carry through exp to outputs of size ≤ magnitude, whatever its summation order."""


def check_softmax(
    candidate: Callable[[FloatArray], FloatArray],
    *,
    dtypes: tuple[type[np.floating[Any]], ...] = (np.float32, np.float64),
    max_examples: int = 100,
) -> None:
    """Check ``candidate(logits) -> weights`` (softmax over the last axis) against nndl8.

    Laws checked: shape and dtype kept; weights within rounding of
    ``impl.softmax.softmax``; rows sum to 1; stable for logits of ±1e30.
    """
    for dtype in dtypes:

        @settings(max_examples=max_examples, deadline=None, database=None)
        @given(nst.logits_arrays(dtype=np.dtype(dtype)))
        def agrees(logits: FloatArray) -> None:
            actual = np.asarray(candidate(logits))
            expected = softmax(logits)
            assert_close(actual, expected, atol=8 * logits.shape[-1] * eps(logits.dtype))

        agrees()
        extreme = np.array([[1e30, -1e30, 0.0]], dtype=dtype)
        assert_close(np.asarray(candidate(extreme)), softmax(extreme), rtol=0, atol=eps(dtype))


def check_scaled_dot_product_attention(
    candidate: Callable[..., FloatArray],
    *,
    dtypes: tuple[type[np.floating[Any]], ...] = (np.float32, np.float64),
    max_examples: int = 100,
    test_masks: bool = True,
    test_causal: bool = True,
) -> None:
    """Check ``candidate(query, key, value, mask, *, is_causal=...)`` against nndl8's SDPA.

    The candidate must follow PyTorch's ``scaled_dot_product_attention``
    conventions (boolean mask True = may attend, top-left causal mask).
    With ``test_masks`` it is also called with fully masked rows, whose output
    must be 0 (PyTorch ≥ 2.5 behaviour).
    """
    for dtype in dtypes:

        @settings(max_examples=max_examples, deadline=None, database=None)
        @given(nst.attention_inputs(dtype=np.dtype(dtype)), st.data())
        def agrees(inputs: nst.AttentionInputs, data: st.DataObject) -> None:
            q, k, v = inputs.query, inputs.key, inputs.value
            options = (
                ["none"] + (["mask"] if test_masks else []) + (["causal"] if test_causal else [])
            )
            kind = data.draw(st.sampled_from(options), label="mask kind")
            mask = None
            if kind == "mask":
                mask = data.draw(nst.bool_arrays((q.shape[-2], k.shape[-2])), label="mask")
            elif kind == "causal":
                mask = causal_mask(q.shape[-2], k.shape[-2])
            expected = scaled_dot_product_attention(q, k, v, mask)
            if kind == "causal":
                actual = np.asarray(candidate(q, k, v, None, is_causal=True))
            else:
                actual = np.asarray(candidate(q, k, v, mask))
            atol = ORACLE_ATOL_FACTOR * q.shape[-1] * nst.DEFAULT_MAGNITUDE**3 * eps(q.dtype)
            assert_close(actual, expected, atol=atol)

        agrees()
