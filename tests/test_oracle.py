"""The oracle accepts correct functions and catches broken ones."""

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from impl.attention import scaled_dot_product_attention
from impl.softmax import softmax
from tests.oracle import check_scaled_dot_product_attention, check_softmax

FloatArray = NDArray[np.floating[Any]]


def _unstable_softmax(x: FloatArray) -> FloatArray:
    with np.errstate(all="ignore"):
        e = np.exp(x)
        result: FloatArray = e / e.sum(axis=-1, keepdims=True)
    return result


def _bottom_right_causal(
    q: FloatArray, k: FloatArray, v: FloatArray, mask: Any = None, *, is_causal: bool = False
) -> FloatArray:
    if is_causal:
        mask = np.tri(q.shape[-2], k.shape[-2], k=k.shape[-2] - q.shape[-2], dtype=bool)
    return scaled_dot_product_attention(q, k, v, mask)


def test_oracle_accepts_the_reference() -> None:
    """nndl8's own functions pass their oracle."""
    check_softmax(softmax, max_examples=20)
    check_scaled_dot_product_attention(scaled_dot_product_attention, max_examples=20)


def test_oracle_rejects_unstable_softmax() -> None:
    """A softmax without max-subtraction fails on ±1e30 logits."""
    with pytest.raises(AssertionError):
        check_softmax(_unstable_softmax, max_examples=5)


def test_oracle_rejects_bottom_right_causal_mask() -> None:
    """A causal mask aligned bottom-right (not PyTorch's top-left) is caught when L ≠ S."""
    with pytest.raises(AssertionError):
        check_scaled_dot_product_attention(_bottom_right_causal, max_examples=100)
