"""Properties of impl.multihead (§8.2.1 multi-head attention, §8.3 self-attention)."""

import inspect
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.attention import key_value_attention, scaled_dot_product_attention
from impl.multihead import (
    SelfAttentionParameters,
    TransformerAttentionParameters,
    book_multi_head_attention,
    multi_head_attention,
    multi_head_attention_with_weights,
    self_attention,
)
from impl.testing import strategies as nst
from impl.testing.tolerances import assert_close, eps
from tests._introspection import is_mutation_artifact

FloatArray = NDArray[np.floating[Any]]


def _atol(dtype: np.dtype[Any], width: int) -> float:
    """Products of projections and attention: a few·width·magnitude³ rounding errors."""
    return 64 * width * nst.DEFAULT_MAGNITUDE**3 * eps(dtype)


@given(nst.attention_inputs())
def test_book_multi_head_is_concatenation_of_key_value_attention(
    inputs: nst.AttentionInputs,
) -> None:
    """§8.2.1: att((K,V), Q) = att((K,V), q_1) ⊕ … ⊕ att((K,V), q_M); M = 1 is key-value."""
    q, k, v = inputs.query, inputs.key, inputs.value
    out = book_multi_head_attention(q, k, v)
    m, d_v = q.shape[-2], v.shape[-1]
    assert out.shape == (*np.broadcast_shapes(q.shape[:-2], k.shape[:-2]), m * d_v)
    for i in range(m):
        single = key_value_attention(q[..., i : i + 1, :], k, v)[..., 0, :]
        assert_close(out[..., i * d_v : (i + 1) * d_v], single, atol=_atol(inputs.dtype, 1))


@given(nst.attention_inputs(max_len=5, max_dim=4), st.booleans())
def test_self_attention_is_key_value_attention_of_projections(
    inputs: nst.AttentionInputs, causal: bool
) -> None:
    """§8.3: h_n = att((K, V), q_n) with Q = X W_q, K = X W_k, V = X W_v."""
    x = inputs.key
    rng = np.random.default_rng(0)
    p = SelfAttentionParameters.initialize(
        rng, input_dim=x.shape[-1], key_dim=3, value_dim=2, dtype=inputs.dtype.type
    )
    mask = np.tri(x.shape[-2], dtype=bool) if causal else None
    expected = key_value_attention(x @ p.W_q, x @ p.W_k, x @ p.W_v, mask=mask)
    assert_close(self_attention(x, p, is_causal=causal), expected, atol=_atol(inputs.dtype, 4))


@given(nst.attention_inputs(), st.booleans())
def test_one_head_identity_projections_equal_sdpa(
    inputs: nst.AttentionInputs, causal: bool
) -> None:
    """Transformer MHA with h = 1 and identity projections is scaled dot-product attention."""
    q, k, v = inputs.query, inputs.key, inputs.value
    d_k, d_v = q.shape[-1], v.shape[-1]
    eye_k, eye_v = np.eye(d_k, dtype=inputs.dtype), np.eye(d_v, dtype=inputs.dtype)
    p = TransformerAttentionParameters(eye_k, eye_k, eye_v, eye_v, num_heads=1)
    assert_close(
        multi_head_attention(q, k, v, p, is_causal=causal),
        scaled_dot_product_attention(q, k, v, is_causal=causal),
        atol=_atol(inputs.dtype, d_k),
    )


@given(nst.attention_inputs(max_dim=4), st.sampled_from([1, 2, 3]))
def test_multi_head_is_sum_over_heads_of_single_heads(inputs: nst.AttentionInputs, h: int) -> None:
    """[head_1 ⊕ … ⊕ head_h] W^O = Σ_i head_i W^O_i: each head attends on its own slice."""
    q, k, v = inputs.query, inputs.key, inputs.value
    rng = np.random.default_rng(1)
    d = 2
    dt = inputs.dtype.type
    W_q = rng.normal(size=(q.shape[-1], h * d)).astype(dt)
    W_k = rng.normal(size=(k.shape[-1], h * d)).astype(dt)
    W_v = rng.normal(size=(v.shape[-1], h * d)).astype(dt)
    W_o = rng.normal(size=(h * d, 3)).astype(dt)
    full = multi_head_attention(q, k, v, TransformerAttentionParameters(W_q, W_k, W_v, W_o, h))
    total = np.zeros_like(full)
    for i in range(h):
        cols = slice(i * d, (i + 1) * d)
        head = scaled_dot_product_attention(q @ W_q[:, cols], k @ W_k[:, cols], v @ W_v[:, cols])
        total = total + head @ W_o[cols]
    assert_close(full, total, atol=_atol(inputs.dtype, 16) * 10)


@given(nst.attention_inputs(max_dim=4), st.data())
def test_multi_head_key_padding_ignores_padded_keys(
    inputs: nst.AttentionInputs, data: st.DataObject
) -> None:
    """Keys marked as padding (False) can hold anything without changing the output."""
    q, k, v = inputs.query, inputs.key, inputs.value
    n = k.shape[-2]
    real = data.draw(nst.bool_arrays((n,)))
    rng = np.random.default_rng(2)
    p = TransformerAttentionParameters.initialize(
        rng, model_dim=4, num_heads=2, dtype=inputs.dtype.type
    )
    p = TransformerAttentionParameters(
        rng.normal(size=(q.shape[-1], 4)).astype(inputs.dtype),
        rng.normal(size=(k.shape[-1], 4)).astype(inputs.dtype),
        rng.normal(size=(v.shape[-1], 4)).astype(inputs.dtype),
        p.W_o,
        num_heads=2,
    )
    garbage_k = data.draw(nst.float_arrays(inputs.dtype, k.shape))
    garbage_v = data.draw(nst.float_arrays(inputs.dtype, v.shape))
    k2 = np.where(real[:, None], k, garbage_k).astype(inputs.dtype)
    v2 = np.where(real[:, None], v, garbage_v).astype(inputs.dtype)
    out, weights = multi_head_attention_with_weights(q, k, v, p, key_padding_mask=real)
    out2 = multi_head_attention(q, k2, v2, p, key_padding_mask=real)
    assert_close(out2, out, atol=_atol(inputs.dtype, 64))
    assert (weights[..., ~real] == 0).all()


@given(nst.attention_inputs(max_dim=4), st.data())
def test_multi_head_causal_output_ignores_the_future(
    inputs: nst.AttentionInputs, data: st.DataObject
) -> None:
    """With is_causal, output i depends only on keys/values 0..i (top-left aligned)."""
    q, k, v = inputs.query, inputs.key, inputs.value
    n, length = k.shape[-2], q.shape[-2]
    cut = data.draw(st.integers(0, n - 1))
    rng = np.random.default_rng(3)
    dt = inputs.dtype.type
    p = TransformerAttentionParameters(
        rng.normal(size=(q.shape[-1], 4)).astype(dt),
        rng.normal(size=(k.shape[-1], 4)).astype(dt),
        rng.normal(size=(v.shape[-1], 4)).astype(dt),
        rng.normal(size=(4, 2)).astype(dt),
        num_heads=2,
    )
    changed_k, changed_v = k.copy(), v.copy()
    changed_k[..., cut + 1 :, :] += 1
    changed_v[..., cut + 1 :, :] -= 1
    rows = slice(0, min(cut + 1, length))
    assert_close(
        multi_head_attention(q, changed_k, changed_v, p, is_causal=True)[..., rows, :],
        multi_head_attention(q, k, v, p, is_causal=True)[..., rows, :],
        atol=_atol(inputs.dtype, 64),
    )


def test_from_torch_layout_slices_exactly() -> None:
    """PyTorch's in_proj_weight = [W_qᵀ; W_kᵀ; W_vᵀ] and out_proj.weight = W_oᵀ."""
    rng = np.random.default_rng(4)
    e = 6
    w_in, w_out = rng.normal(size=(3 * e, e)), rng.normal(size=(e, e))
    b_in, b_out = rng.normal(size=3 * e), rng.normal(size=e)
    p = TransformerAttentionParameters.from_torch_layout(w_in, w_out, 3, b_in, b_out)
    assert (p.W_q == w_in[:e].T).all()
    assert (p.W_v == w_in[2 * e :].T).all()
    assert (p.W_o == w_out.T).all()
    assert p.b_k is not None
    assert (p.b_k == b_in[e : 2 * e]).all()
    x = rng.normal(size=(4, e))
    # The formula as PyTorch documents it, written out by hand.
    q, k = x @ w_in[:e].T + b_in[:e], x @ w_in[e : 2 * e].T + b_in[e : 2 * e]
    v = x @ w_in[2 * e :].T + b_in[2 * e :]
    heads = []
    for i in range(3):
        c = slice(2 * i, 2 * i + 2)
        heads.append(scaled_dot_product_attention(q[:, c], k[:, c], v[:, c]))
    expected = np.concatenate(heads, axis=-1) @ w_out.T + b_out
    assert_close(multi_head_attention(x, x, x, p), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multi_head_fully_masked_query_outputs_bias(dtype: type[np.floating[Any]]) -> None:
    """A query with every key padded attends to nothing: its output is b_o (documented)."""
    rng = np.random.default_rng(5)
    p0 = TransformerAttentionParameters.initialize(rng, model_dim=4, num_heads=2, dtype=dtype)
    b_o = np.arange(4, dtype=dtype)
    p = TransformerAttentionParameters(p0.W_q, p0.W_k, p0.W_v, p0.W_o, 2, b_o=b_o)
    x = rng.normal(size=(3, 4)).astype(dtype)
    out, weights = multi_head_attention_with_weights(
        x, x, x, p, key_padding_mask=np.zeros(3, dtype=bool)
    )
    assert_close(out, np.broadcast_to(b_o, (3, 4)), rtol=0)
    assert (weights == 0).all()


def test_multi_head_bad_input_errors() -> None:
    """Bad parameters and inputs raise errors naming what mismatched."""
    rng = np.random.default_rng(6)
    p = TransformerAttentionParameters.initialize(rng, model_dim=4, num_heads=2)
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="must divide"):
        TransformerAttentionParameters(np.zeros((4, 3)), np.zeros((4, 3)), x.T, x, num_heads=2)
    with pytest.raises(ValueError, match="W_o has 3 rows"):
        TransformerAttentionParameters(p.W_q, p.W_k, p.W_v, np.zeros((3, 4)), num_heads=2)
    with pytest.raises(TypeError, match="num_heads must be an int"):
        TransformerAttentionParameters(p.W_q, p.W_k, p.W_v, p.W_o, num_heads=2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="b_o must have shape"):
        TransformerAttentionParameters(p.W_q, p.W_k, p.W_v, p.W_o, 2, b_o=np.zeros(3))
    with pytest.raises(ValueError, match="query has 5 features"):
        multi_head_attention(np.zeros((3, 5)), x, x, p)
    with pytest.raises(TypeError, match="query float32"):
        multi_head_attention(x.astype(np.float32), x, x, p)
    with pytest.raises(ValueError, match="not both"):
        multi_head_attention(x, x, x, p, mask=np.ones((3, 3), dtype=bool), is_causal=True)
    with pytest.raises(ValueError, match="key_padding_mask"):
        multi_head_attention(x, x, x, p, key_padding_mask=np.ones(4, dtype=bool))
    with pytest.raises(ValueError, match="W_q, W_k, W_v must share"):
        SelfAttentionParameters(np.zeros((4, 2)), np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="inputs has 3 features"):
        self_attention(
            np.zeros((2, 3)),
            SelfAttentionParameters.initialize(rng, input_dim=4, key_dim=2, value_dim=2),
        )


def test_self_attention_default_is_not_causal() -> None:
    """is_causal defaults to False (as in PyTorch): every token attends to every token."""
    rng = np.random.default_rng(7)
    p = SelfAttentionParameters.initialize(rng, input_dim=3, key_dim=2, value_dim=2)
    x = rng.normal(size=(4, 3))
    full = key_value_attention(x @ p.W_q, x @ p.W_k, x @ p.W_v)
    assert_close(self_attention(x, p), full)
    assert not np.allclose(self_attention(x, p, is_causal=True)[0], full[0])


def test_initialize_head_width_one_and_too_many_heads() -> None:
    """model_dim // num_heads = 1 is a valid head width; num_heads > model_dim needs head_dim."""
    rng = np.random.default_rng(8)
    p = TransformerAttentionParameters.initialize(rng, model_dim=4, num_heads=4)
    assert p.W_q.shape == (4, 4)
    with pytest.raises(ValueError, match="num_heads=5 exceeds model_dim=4; give head_dim"):
        TransformerAttentionParameters.initialize(rng, model_dim=4, num_heads=5)
    wide = TransformerAttentionParameters.initialize(rng, model_dim=4, num_heads=5, head_dim=1)
    assert wide.W_q.shape == (4, 5)


def test_from_torch_layout_names_a_wrong_out_proj_weight() -> None:
    """out_proj_weight must have E columns (E = in_proj_weight's rows / 3): named."""
    with pytest.raises(ValueError, match="out_proj_weight has 5 columns, expected E = 6"):
        TransformerAttentionParameters.from_torch_layout(np.ones((18, 6)), np.ones((6, 5)), 3)


def _counting_spies(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Wrap every public function of impl._validation; record (check, argument names) per call.

    The impl modules call ``check.<name>(...)`` through the module, so patching
    its attributes sees every call, including checks that call other checks.
    """
    from impl import _validation

    calls: list[tuple[str, str]] = []
    for name, function in inspect.getmembers(_validation, inspect.isfunction):
        if name.startswith("_") or is_mutation_artifact(name):
            continue
        if function.__module__ != _validation.__name__:
            continue
        signature = inspect.signature(function)

        def spy(*args: Any, _f: Any = function, _s: Any = signature, **kwargs: Any) -> Any:
            bound = _s.bind(*args, **kwargs).arguments
            named = bound.get("name")
            arrays = bound.get("arrays", {})  # same_dtype(query=…, key=…) and the like
            calls.append((_f.__name__, named if isinstance(named, str) else ",".join(arrays)))
            return _f(*args, **kwargs)

        monkeypatch.setattr(_validation, name, spy)
    return calls


def test_multi_head_attention_validates_each_argument_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 7: one multi_head_attention call checks query, key, value and each mask once.

    It used to check its mask three times (multi_head_attention →
    scaled_dot_product_attention_with_weights → softmax); now the kernels trust
    their inputs. Every (check, argument) pair must occur once, and the whole
    call makes a small fixed number of checks.
    """
    rng = np.random.default_rng(0)
    params = TransformerAttentionParameters.initialize(rng, model_dim=8, num_heads=2)
    q, k, v = (rng.normal(size=(4, 8)) for _ in range(3))
    mask = np.tri(4, 4, dtype=np.bool_)
    padding = np.array([True, True, False, True])
    calls = _counting_spies(monkeypatch)
    multi_head_attention(q, k, v, params, key_padding_mask=padding, mask=mask)
    assert len(calls) == len(set(calls)), f"an argument is checked twice: {sorted(calls)}"
    assert sorted(calls) == sorted(
        [
            ("instance", "parameters"),
            ("float_array", "query"),
            ("float_array", "key"),
            ("float_array", "value"),
            ("same_dtype", "query,key,value,parameters"),
            ("batch_broadcast", "query,key,value"),
            ("boolean", "is_causal"),
            ("bool_mask", "mask"),
            ("broadcast_to_target", "mask"),  # inside bool_mask
            ("bool_mask", "key_padding_mask"),
            ("broadcast_to_target", "key_padding_mask"),  # inside bool_mask
        ]
    )
