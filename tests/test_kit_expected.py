"""Each declared expected difference of an adapter exists, for the reason it gives.

An entry whose difference a framework fixes would otherwise excuse nothing silently; the run
also notes it ("declared expected difference not observed").
"""

import numpy as np
import pytest

from impl.testing import Outcome, RunConfig
from impl.testing.attention import check_mha, check_sdpa
from impl.testing.expected_jax import JAX_ATTENTION_EXPECTED
from impl.testing.expected_torch import TORCH_ATTENTION_EXPECTED


def test_kit_expected_torch_mha_fully_padded_row_is_nan() -> None:
    """nn.MultiheadAttention (need_weights=True) gives NaN for a query whose keys are all padded."""
    torch = pytest.importorskip("torch")
    module = torch.nn.MultiheadAttention(2, 1, batch_first=True).eval()
    x = torch.ones(1, 1, 2)
    with torch.no_grad():
        out, weights = module(x, x, x, key_padding_mask=torch.tensor([[True]]), need_weights=True)
    assert torch.isnan(out).all()
    assert torch.isnan(weights).all()
    (entry,) = TORCH_ATTENTION_EXPECTED
    assert entry.check == "mha.fully_padded_rows"
    from impl.testing.torch_adapters import torch_multihead_attention

    config = RunConfig(expected=TORCH_ATTENTION_EXPECTED, checks=(entry.check,), max_examples=5)
    (result,) = check_mha(torch_multihead_attention(config), config)
    assert result.outcome is Outcome.EXPECTED
    assert "NaN" in result.report()


def _jax_run(check: str, precision: str) -> Outcome:
    pytest.importorskip("jax")
    from impl.testing.jax_adapters import jax_sdpa

    config = RunConfig(
        precision=precision,  # type: ignore[arg-type]  # a Precision literal
        layout="BLHE",
        expected=JAX_ATTENTION_EXPECTED,
        checks=(check,),
        max_examples=3,  # XLA compiles each shape; the difference shows on any example
        restrictions=("value_dim=key_dim",),
    )
    (result,) = check_sdpa(jax_sdpa(config), config)
    outcome: Outcome = result.outcome
    return outcome


def test_kit_expected_jax_fully_masked_row_gives_mean_of_v() -> None:
    """jax.nn.dot_product_attention: a fully masked boolean row outputs the mean of V."""
    jax = pytest.importorskip("jax")
    q = np.ones((1, 1, 1, 2), dtype=np.float32)
    v = np.arange(6, dtype=np.float32).reshape(1, 3, 1, 2)
    mask = np.zeros((1, 1, 1, 3), dtype=bool)
    out = np.asarray(jax.nn.dot_product_attention(q, v, v, mask=mask))
    np.testing.assert_allclose(out[0, 0, 0], v[0, :, 0].mean(axis=0), rtol=1e-6)
    assert _jax_run("sdpa.fully_masked_rows", "float32") is Outcome.EXPECTED


def test_kit_expected_jax_neg_inf_bias_row_is_nan() -> None:
    """jax.nn.dot_product_attention: a bias row of −inf everywhere gives NaN."""
    jax = pytest.importorskip("jax")
    q = np.ones((1, 1, 1, 2), dtype=np.float32)
    bias = np.full((1, 1, 1, 3), -np.inf, dtype=np.float32)
    kv = np.ones((1, 3, 1, 2), np.float32)
    out = np.asarray(jax.nn.dot_product_attention(q, kv, kv, bias=bias))
    assert np.isnan(out).all()
    assert _jax_run("sdpa.fully_masked_float_rows", "float32") is Outcome.EXPECTED


def test_kit_expected_jax_softmax_runs_in_float32_under_x64() -> None:
    """jax.nn.dot_product_attention on float64 inputs carries float32 rounding (~1e-8)."""
    pytest.importorskip("jax")
    from impl.testing.jax_adapters import jax_sdpa

    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(1, 4, 1, 3)) for _ in range(3))
    got = jax_sdpa(RunConfig(layout="BLHE"))(q, k, v)
    s = np.einsum("bld,bsd->bls", q[:, :, 0], k[:, :, 0]) / np.sqrt(3)
    w = np.exp(s - s.max(-1, keepdims=True))
    exact = (w / w.sum(-1, keepdims=True)) @ v[:, :, 0]
    error = np.abs(got[:, :, 0] - exact).max()
    assert 1e-12 < error < 1e-5  # float32 rounding, not float64's ~1e-16
    assert _jax_run("sdpa.reference", "float64") is Outcome.EXPECTED
    assert _jax_run("sdpa.reference", "float32") is Outcome.PASS
