"""Multi-head attention (book and Transformer forms) and self-attention.

Book: §8.2.1 (multi-head attention: several queries, results concatenated),
§8.3 (self-attention, Q = W_q X, K = W_k X, V = W_v X); Vaswani et al. 2017
(per-head projections and an output projection). Spec: ``spec.attention``.

Shape mapping. The book's projections act on columns, Q = W_q X with
W_q ∈ R^{D_k×D_x}. On our rows the same map is Q = X W_q with our
``W_q`` = the book's W_qᵀ, of shape (D_x, D_k). All masks are boolean with
True = may attend (PyTorch's ``scaled_dot_product_attention`` convention).

Checked once: each public function checks and names its arguments, then runs
the kernels (``_multi_head`` → ``impl.attention._sdpa`` → ``impl._numerics.softmax``).
Masks must not enlarge the result; ``is_causal`` must be a bool; zero-size
axes and overflowing projections are ValueErrors naming the arguments (see
``impl.attention``). The parameter containers keep read-only private copies
of their arrays (an in-place edit raises; ``dataclasses.replace`` re-checks).

# Note: PyTorch's ``nn.MultiheadAttention`` uses the OPPOSITE boolean
# convention for ``key_padding_mask`` and ``attn_mask`` (True = ignore).
# Pass ``~mask`` when porting from it; ``TransformerAttentionParameters.
# from_torch_layout`` converts its weights.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from impl import _validation as check
from impl._typing import BoolArray, FloatArray, IntScalar, Queries, Vectors
from impl.attention import (
    _AttentionOverflowError,
    _causal,
    _key_value,
    _key_value_checked,
    _sdpa,
)
from impl.scores import ScoreFunction, _overflow_error, scaled_dot_product_score


def book_multi_head_attention(
    queries: Queries,
    keys: Vectors,
    values: Vectors,
    *,
    score: ScoreFunction = scaled_dot_product_score,
    mask: BoolArray | None = None,
) -> FloatArray:
    r"""Book-form multi-head attention att((K,V), Q) = ⊕_m att((K,V), q_m).

    Book: §8.2.1, multi-head attention: M queries Q = [q_1, …, q_M] each select
    from the same key-value memory, and the M results are concatenated.
    Shapes: queries (..., M, D_q), keys (..., N, D_k), values (..., N, D_v)
    -> (..., M·D_v), the concatenation [att(q_1); …; att(q_M)] in query order.
    With M = 1 it is key-value attention (``spec.attention`` derives this).
    Edges: as ``impl.attention.key_value_attention`` (errors name ``queries``).
    """
    q, k, v, f, allowed = _key_value_checked(queries, keys, values, score, mask, "queries")
    try:
        per_query = _key_value(q, k, v, f, allowed)
    except _AttentionOverflowError:
        raise _overflow_error("queries, keys and values", q.dtype) from None
    concatenated: FloatArray = per_query.reshape(*per_query.shape[:-2], -1)
    return concatenated


def _matrix(x: object, name: str) -> FloatArray:
    m = check.float_array(x, name, min_ndim=2, nonempty=True)
    if m.ndim != 2:
        raise ValueError(f"{name} must be a matrix, got shape {m.shape}")
    return m


def _bias(x: object, name: str, size: int) -> FloatArray | None:
    if x is None:
        return None
    b = check.float_array(x, name, min_ndim=1)
    if b.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},), got {b.shape}")
    return b


@dataclass(frozen=True)
class TransformerAttentionParameters:
    r"""Projections of Transformer multi-head attention (row convention).

    ``W_q`` (D_q, h·d_k), ``W_k`` (D_k, h·d_k), ``W_v`` (D_v, h·d_v),
    ``W_o`` (h·d_v, D_out), optional biases of matching widths (None = no
    bias), and ``num_heads`` h (an int; NumPy ints accepted). Head i uses
    columns i·d_k … (i+1)·d_k − 1 of ``W_q``/``W_k`` (and likewise for
    ``W_v``), as in PyTorch. The container keeps read-only private copies.
    """

    W_q: FloatArray
    W_k: FloatArray
    W_v: FloatArray
    W_o: FloatArray
    num_heads: int
    b_q: FloatArray | None = None
    b_k: FloatArray | None = None
    b_v: FloatArray | None = None
    b_o: FloatArray | None = None

    def __post_init__(self) -> None:
        heads = check.positive_int(self.num_heads, "num_heads")
        W_q, W_k = _matrix(self.W_q, "W_q"), _matrix(self.W_k, "W_k")
        W_v, W_o = _matrix(self.W_v, "W_v"), _matrix(self.W_o, "W_o")
        check.same_dtype(W_q=W_q, W_k=W_k, W_v=W_v, W_o=W_o)
        if W_q.shape[1] != W_k.shape[1]:
            raise ValueError(f"W_q has {W_q.shape[1]} columns, W_k has {W_k.shape[1]}")
        if W_q.shape[1] % heads or W_v.shape[1] % heads:
            raise ValueError(
                f"num_heads={heads} must divide the projection widths "
                f"(W_q/W_k: {W_q.shape[1]}, W_v: {W_v.shape[1]})"
            )
        if W_o.shape[0] != W_v.shape[1]:
            raise ValueError(f"W_o has {W_o.shape[0]} rows, W_v has {W_v.shape[1]} columns")
        biases = {
            name: _bias(bias, name, size)
            for name, bias, size in (
                ("b_q", self.b_q, W_q.shape[1]),
                ("b_k", self.b_k, W_k.shape[1]),
                ("b_v", self.b_v, W_v.shape[1]),
                ("b_o", self.b_o, W_o.shape[1]),
            )
        }
        for name, b in biases.items():
            if b is not None:
                check.same_dtype(W_q=W_q, **{name: b})
        object.__setattr__(self, "num_heads", heads)
        check.frozen_fields(self, W_q=W_q, W_k=W_k, W_v=W_v, W_o=W_o, **biases)

    @property
    def head_key_dim(self) -> int:
        """d_k, the width of each head's queries and keys."""
        return int(self.W_q.shape[1]) // self.num_heads

    @property
    def head_value_dim(self) -> int:
        """d_v, the width of each head's values."""
        return int(self.W_v.shape[1]) // self.num_heads

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        model_dim: IntScalar,
        num_heads: IntScalar,
        head_dim: IntScalar | None = None,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "TransformerAttentionParameters":
        """Draw Glorot-uniform projections for D_q = D_k = D_v = D_out = ``model_dim``.

        ``head_dim`` defaults to model_dim // num_heads (the Transformer's choice).
        Sizes whose arrays exceed ``ALLOCATION_LIMIT_BYTES`` are a ValueError.
        """
        gen = check.generator(rng)
        d_model = check.positive_int(model_dim, "model_dim")
        heads = check.positive_int(num_heads, "num_heads")
        d_head = d_model // heads if head_dim is None else check.positive_int(head_dim, "head_dim")
        chosen = check.float_dtype(dtype)
        if d_head == 0:
            raise ValueError(f"num_heads={heads} exceeds model_dim={d_model}; give head_dim")
        width = heads * d_head
        check.allocation(
            4 * d_model * width, chosen, "model_dim, num_heads and head_dim", "the projections"
        )

        def glorot(rows: int, cols: int) -> FloatArray:
            bound = math.sqrt(6.0 / (rows + cols))
            return gen.uniform(-bound, bound, size=(rows, cols)).astype(chosen)

        return cls(
            W_q=glorot(d_model, width),
            W_k=glorot(d_model, width),
            W_v=glorot(d_model, width),
            W_o=glorot(width, d_model),
            num_heads=heads,
        )

    @classmethod
    def from_torch_layout(
        cls,
        in_proj_weight: FloatArray,
        out_proj_weight: FloatArray,
        num_heads: IntScalar,
        in_proj_bias: FloatArray | None = None,
        out_proj_bias: FloatArray | None = None,
    ) -> "TransformerAttentionParameters":
        """Convert ``nn.MultiheadAttention`` weights (plain arrays, no torch needed).

        PyTorch stores ``in_proj_weight`` (3E, E) = [W_qᵀ; W_kᵀ; W_vᵀ] acting as
        ``x @ Wᵀ`` and ``out_proj.weight`` (E, E) acting as ``y @ Wᵀ``; we store
        the transposes. Exact (no arithmetic, only slicing and transposition).
        """
        w_in = _matrix(in_proj_weight, "in_proj_weight")
        if w_in.shape[0] % 3:
            raise ValueError(f"in_proj_weight must have 3E rows, got {w_in.shape[0]}")
        e = w_in.shape[0] // 3
        w_out = _matrix(out_proj_weight, "out_proj_weight")
        check.same_dtype(in_proj_weight=w_in, out_proj_weight=w_out)
        if w_out.shape[1] != e:
            raise ValueError(f"out_proj_weight has {w_out.shape[1]} columns, expected E = {e}")
        b_in = _bias(in_proj_bias, "in_proj_bias", 3 * e)
        b_out = _bias(out_proj_bias, "out_proj_bias", w_out.shape[0])
        for name, b in (("in_proj_bias", b_in), ("out_proj_bias", b_out)):
            if b is not None:
                check.same_dtype(in_proj_weight=w_in, **{name: b})
        heads = check.positive_int(num_heads, "num_heads")
        if e % heads:
            raise ValueError(f"num_heads={heads} must divide E = {e}")
        return cls(
            W_q=w_in[:e].T,
            W_k=w_in[e : 2 * e].T,
            W_v=w_in[2 * e :].T,
            W_o=w_out.T,
            num_heads=heads,
            b_q=None if b_in is None else b_in[:e],
            b_k=None if b_in is None else b_in[e : 2 * e],
            b_v=None if b_in is None else b_in[2 * e :],
            b_o=b_out,
        )


def _project(x: FloatArray, W: FloatArray, b: FloatArray | None, heads: int) -> FloatArray:
    """x (..., N, D) -> per-head (..., h, N, d): x W + b split into h column blocks."""
    with np.errstate(over="ignore", invalid="ignore"):
        projected: FloatArray = x @ W
        if b is not None:
            projected = projected + b
    split = projected.reshape(*projected.shape[:-1], heads, W.shape[1] // heads)
    per_head: FloatArray = np.swapaxes(split, -2, -3)
    return per_head


def _multi_head(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    p: TransformerAttentionParameters,
    allowed: BoolArray | None,
) -> tuple[FloatArray, FloatArray]:
    """The multi-head kernel: project, attend per head (``_sdpa``), concatenate, project."""
    heads = p.num_heads
    q_h = _project(q, p.W_q, p.b_q, heads)  # (..., h, L, d_k)
    k_h = _project(k, p.W_k, p.b_k, heads)  # (..., h, S, d_k)
    v_h = _project(v, p.W_v, p.b_v, heads)  # (..., h, S, d_v)
    attended, weights = _sdpa(q_h, k_h, v_h, allowed, None, None)
    merged = np.swapaxes(attended, -2, -3)  # (..., L, h, d_v)
    concatenated: FloatArray = merged.reshape(*merged.shape[:-2], -1)  # head_1 ⊕ … ⊕ head_h
    with np.errstate(over="ignore", invalid="ignore"):
        output: FloatArray = concatenated @ p.W_o
        if p.b_o is not None:
            output = output + p.b_o
    if not np.isfinite(output).all():
        raise _AttentionOverflowError
    return output, weights


def _multi_head_checked(
    query: object,
    key: object,
    value: object,
    parameters: object,
    key_padding_mask: object,
    mask: object,
    is_causal: object,
) -> tuple[FloatArray, FloatArray, FloatArray, TransformerAttentionParameters, BoolArray | None]:
    p = check.instance(parameters, TransformerAttentionParameters, "parameters")
    q = check.float_array(query, "query", min_ndim=2, nonempty=True)
    k = check.float_array(key, "key", min_ndim=2, nonempty=True)
    v = check.float_array(value, "value", min_ndim=2, nonempty=True)
    check.same_dtype(query=q, key=k, value=v, parameters=p.W_q)
    for name, x, W in (("query", q, p.W_q), ("key", k, p.W_k), ("value", v, p.W_v)):
        if x.shape[-1] != W.shape[0]:
            raise ValueError(
                f"{name} has {x.shape[-1]} features, its projection expects {W.shape[0]}"
            )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"key has {k.shape[-2]} vectors, value has {v.shape[-2]}")
    batch = check.batch_broadcast(query=q, key=k, value=v)
    causal = check.boolean(is_causal, "is_causal")
    if mask is not None and causal:
        raise ValueError("give either mask or is_causal=True, not both")
    length, memory = q.shape[-2], k.shape[-2]
    allowed: BoolArray | None = _causal(length, memory) if causal else None
    if mask is not None:
        allowed = check.bool_mask(mask, "mask", (*batch, p.num_heads, length, memory))
    if key_padding_mask is not None:
        padding = check.bool_mask(key_padding_mask, "key_padding_mask", (*batch, memory))
        padding_4d: BoolArray = padding[..., None, None, :]  # (..., 1, 1, S)
        allowed = padding_4d if allowed is None else allowed & padding_4d
    return q, k, v, p, allowed


def multi_head_attention_with_weights(
    query: Queries,
    key: Vectors,
    value: Vectors,
    parameters: TransformerAttentionParameters,
    *,
    key_padding_mask: BoolArray | None = None,
    mask: BoolArray | None = None,
    is_causal: bool = False,
) -> tuple[Queries, FloatArray]:
    r"""Transformer multi-head attention and its per-head weights.

    head_i = att((K W_i^K, V W_i^V), Q W_i^Q) with scaled dot-product scores
    (scale 1/√d_k), MHA(Q, K, V) = [head_1 ⊕ … ⊕ head_h] W^O.
    Book: §8.2.1 (multi-head attention, Transformer form); Vaswani et al. 2017 §3.2.2.
    Shapes: query (..., L, D_q), key (..., S, D_k), value (..., S, D_v) ->
    (output (..., L, D_out), weights (..., h, L, S)).
    Masks (True = may attend): ``key_padding_mask`` (..., S) marks real keys;
    ``mask`` broadcastable to (L, S) or (..., h, L, S) (never enlarging the
    result); ``is_causal`` (a bool) adds the top-left causal mask (it may be
    combined with ``key_padding_mask`` but not with ``mask``). Fully masked
    queries output the bias b_o (their attention output is 0 before the
    output projection). Edges: see the module docstring.
    """
    q, k, v, p, allowed = _multi_head_checked(
        query, key, value, parameters, key_padding_mask, mask, is_causal
    )
    try:
        return _multi_head(q, k, v, p, allowed)
    except _AttentionOverflowError:
        raise _overflow_error("query, key, value and parameters", q.dtype) from None


def multi_head_attention(
    query: Queries,
    key: Vectors,
    value: Vectors,
    parameters: TransformerAttentionParameters,
    *,
    key_padding_mask: BoolArray | None = None,
    mask: BoolArray | None = None,
    is_causal: bool = False,
) -> Queries:
    r"""Transformer multi-head attention [head_1 ⊕ … ⊕ head_h] W^O (output only).

    Book: §8.2.1; see ``multi_head_attention_with_weights`` for shapes and masks.
    """
    q, k, v, p, allowed = _multi_head_checked(
        query, key, value, parameters, key_padding_mask, mask, is_causal
    )
    try:
        return _multi_head(q, k, v, p, allowed)[0]
    except _AttentionOverflowError:
        raise _overflow_error("query, key, value and parameters", q.dtype) from None


@dataclass(frozen=True)
class SelfAttentionParameters:
    r"""Self-attention projections in rows: ``W_q``, ``W_k`` (D_x, D_k), ``W_v`` (D_x, D_v).

    These are the transposes of the book's W_q, W_k ∈ R^{D_k×D_x}, W_v ∈ R^{D_v×D_x}.
    The container keeps read-only private copies.
    """

    W_q: FloatArray
    W_k: FloatArray
    W_v: FloatArray

    def __post_init__(self) -> None:
        W_q, W_k = _matrix(self.W_q, "W_q"), _matrix(self.W_k, "W_k")
        W_v = _matrix(self.W_v, "W_v")
        check.same_dtype(W_q=W_q, W_k=W_k, W_v=W_v)
        if not W_q.shape[0] == W_k.shape[0] == W_v.shape[0]:
            raise ValueError(
                f"W_q, W_k, W_v must share D_x rows, got {W_q.shape[0]}, {W_k.shape[0]}, "
                f"{W_v.shape[0]}"
            )
        if W_q.shape[1] != W_k.shape[1]:
            raise ValueError(f"W_q has {W_q.shape[1]} columns (D_k), W_k has {W_k.shape[1]}")
        check.frozen_fields(self, W_q=W_q, W_k=W_k, W_v=W_v)

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        input_dim: IntScalar,
        key_dim: IntScalar,
        value_dim: IntScalar,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "SelfAttentionParameters":
        """Draw N(0, 1/D_x) projections from ``rng`` (sizes limited as in ``initialize``)."""
        gen = check.generator(rng)
        d_x = check.positive_int(input_dim, "input_dim")
        d_k = check.positive_int(key_dim, "key_dim")
        d_v = check.positive_int(value_dim, "value_dim")
        chosen = check.float_dtype(dtype)
        check.allocation(
            d_x * (2 * d_k + d_v), chosen, "input_dim, key_dim and value_dim", "the projections"
        )
        std = 1.0 / math.sqrt(d_x)
        return cls(
            W_q=gen.normal(0, std, size=(d_x, d_k)).astype(chosen),
            W_k=gen.normal(0, std, size=(d_x, d_k)).astype(chosen),
            W_v=gen.normal(0, std, size=(d_x, d_v)).astype(chosen),
        )


def self_attention(
    inputs: Vectors,
    parameters: SelfAttentionParameters,
    *,
    mask: BoolArray | None = None,
    is_causal: bool = False,
) -> Vectors:
    r"""Self-attention H = softmax(Q Kᵀ/√D_k) V with Q = X W_q, K = X W_k, V = X W_v.

    Book: §8.3, H = V softmax(Kᵀ Q/√D_k) (columns); h_n = Σ_j α_nj v_j with
    α_nj = softmax_j(s(k_j, q_n)) and the scaled dot-product score.
    Shapes: inputs (..., N, D_x) -> (..., N, D_v); row n is the book's h_n.
    ``mask`` (True = may attend) broadcastable to (..., N, N) without
    enlarging it; ``is_causal`` (a bool) lets position n attend to positions
    ≤ n. Edges: see the module docstring (errors name ``inputs``).
    """
    x = check.float_array(inputs, "inputs", min_ndim=2, nonempty=True)
    p = check.instance(parameters, SelfAttentionParameters, "parameters")
    check.same_dtype(inputs=x, parameters=p.W_q)
    if x.shape[-1] != p.W_q.shape[0]:
        raise ValueError(f"inputs has {x.shape[-1]} features, W_q expects {p.W_q.shape[0]}")
    causal = check.boolean(is_causal, "is_causal")
    if mask is not None and causal:
        raise ValueError("give either mask or is_causal=True, not both")
    n = x.shape[-2]
    allowed = _causal(n, n) if causal else None
    if mask is not None:
        allowed = check.bool_mask(mask, "mask", (*x.shape[:-2], n, n))
    with np.errstate(over="ignore", invalid="ignore"):
        q: FloatArray = x @ p.W_q
        k: FloatArray = x @ p.W_k
        v: FloatArray = x @ p.W_v
    try:
        return _sdpa(q, k, v, allowed, None, None)[0]
    except _AttentionOverflowError:
        raise _overflow_error("inputs and parameters", x.dtype) from None
