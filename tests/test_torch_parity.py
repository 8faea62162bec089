"""Parity with PyTorch where conventions meet (optional: skipped without torch).

Install the ``torch`` extra to run these (``pip install -e '.[torch]'``); the
default test run never needs torch. Conventions compared:

* ``scaled_dot_product_attention``: same argument names and meaning; boolean
  masks True = may attend in both; float masks are added in both; causal masks
  top-left aligned in both; fully masked rows give 0 in both (torch ≥ 2.5).
* ``nn.MultiheadAttention``: its boolean masks mean True = IGNORE, ours
  True = may attend, so we pass ``~mask``; its weights convert with
  ``TransformerAttentionParameters.from_torch_layout``.
"""

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl.attention import scaled_dot_product_attention
from impl.multihead import TransformerAttentionParameters, multi_head_attention_with_weights
from impl.testing import strategies as nst
from impl.testing.tolerances import assert_close

torch: Any = pytest.importorskip("torch")

# float64 on both sides; the two libraries sum in different orders, so allow a
# few hundred ulps of the outputs' magnitude (|v| ≤ 10).
FLOAT64_ATOL = 1e-12


@given(nst.attention_inputs(dtype=np.dtype(np.float64)), st.data())
def test_sdpa_matches_torch(inputs: nst.AttentionInputs, data: st.DataObject) -> None:
    """impl SDPA == torch SDPA for bool masks, float masks, is_causal and scale."""
    q, k, v = inputs.query, inputs.key, inputs.value
    kind = data.draw(st.sampled_from(["none", "bool", "float", "causal"]))
    scale = data.draw(st.none() | st.floats(0.05, 2.0))
    mask: Any = None
    if kind in ("bool", "float"):
        allowed = data.draw(nst.bool_arrays((q.shape[-2], k.shape[-2])))
        mask = allowed if kind == "bool" else np.where(allowed, 0.0, -np.inf)
    ours = scaled_dot_product_attention(q, k, v, mask, scale=scale, is_causal=kind == "causal")
    theirs = torch.nn.functional.scaled_dot_product_attention(
        torch.from_numpy(q),
        torch.from_numpy(k),
        torch.from_numpy(v),
        attn_mask=None if mask is None else torch.from_numpy(np.ascontiguousarray(mask)),
        is_causal=kind == "causal",
        scale=scale,
    ).numpy()
    assert_close(ours, theirs, atol=FLOAT64_ATOL)


@given(st.data())
def test_multi_head_attention_matches_torch(data: st.DataObject) -> None:
    """impl MHA with converted weights == nn.MultiheadAttention (masks inverted)."""
    heads = data.draw(st.sampled_from([1, 2, 4]))
    e = heads * data.draw(st.integers(1, 3))
    batch, length, memory = (
        data.draw(st.integers(1, 2)),
        data.draw(nst.sizes(5)),
        data.draw(nst.sizes(5)),
    )
    seed = data.draw(st.integers(0, 2**31 - 1))
    torch.manual_seed(seed)
    module = torch.nn.MultiheadAttention(e, heads, batch_first=True, dtype=torch.float64)
    q = data.draw(nst.float_arrays(np.float64, (batch, length, e), magnitude=3))
    kv = data.draw(nst.float_arrays(np.float64, (batch, memory, e), magnitude=3))
    padding = data.draw(nst.bool_arrays((batch, memory)))  # ours: True = real key
    params = TransformerAttentionParameters.from_torch_layout(
        module.in_proj_weight.detach().numpy(),
        module.out_proj.weight.detach().numpy(),
        heads,
        module.in_proj_bias.detach().numpy(),
        module.out_proj.bias.detach().numpy(),
    )
    ours, our_weights = multi_head_attention_with_weights(
        q, kv, kv, params, key_padding_mask=padding
    )
    theirs, their_weights = module(
        torch.from_numpy(q),
        torch.from_numpy(kv),
        torch.from_numpy(kv),
        key_padding_mask=torch.from_numpy(~padding),
        need_weights=True,
        average_attn_weights=False,
    )
    fully_padded = ~padding.any(axis=-1)
    # Note: torch's nn.MultiheadAttention returns NaN for a fully padded batch item
    # (its module path does not use the safe softmax); we return b_o. Compare the rest.
    keep = ~fully_padded
    assert_close(ours[keep], theirs.detach().numpy()[keep], atol=1e-10)
    assert_close(our_weights[keep], their_weights.detach().numpy()[keep], atol=1e-12)


def test_fully_padded_item_differs_from_torch_as_documented() -> None:
    """Where conventions differ: nn.MultiheadAttention gives NaN, we give b_o and weights 0."""
    torch.manual_seed(0)
    module = torch.nn.MultiheadAttention(4, 2, batch_first=True, dtype=torch.float64)
    x = np.random.default_rng(0).normal(size=(1, 3, 4))
    params = TransformerAttentionParameters.from_torch_layout(
        module.in_proj_weight.detach().numpy(),
        module.out_proj.weight.detach().numpy(),
        2,
        module.in_proj_bias.detach().numpy(),
        module.out_proj.bias.detach().numpy(),
    )
    padding = np.zeros((1, 3), dtype=bool)
    ours, weights = multi_head_attention_with_weights(x, x, x, params, key_padding_mask=padding)
    theirs, _ = module(*(torch.from_numpy(x),) * 3, key_padding_mask=torch.from_numpy(~padding))
    assert np.isnan(theirs.detach().numpy()).all()
    assert_close(ours, np.broadcast_to(module.out_proj.bias.detach().numpy(), (1, 3, 4)), rtol=0)
    assert (weights == 0).all()
