"""Neural Turing machine: content and location addressing, read and erase/add write.

Book: §8.5.2 (Graves, Wayne & Danihelka 2014, "Neural Turing Machines", §3).
Spec: ``spec.neural_turing_machine``.

A head emits a key k_t, key strength β_t > 0, interpolation gate g_t ∈ [0, 1],
shift distribution s_t and sharpening exponent γ_t ≥ 1; addressing composes

    content:      w^c_t(i) = softmax_i(β_t · cos(k_t, M_t(i)))
    interpolate:  w^g_t = g_t w^c_t + (1 − g_t) w_{t−1}
    shift:        w̃_t(i) = Σ_j w^g_t(j) s_t((i − j) mod N)
    sharpen:      w_t(i) = w̃_t(i)^{γ_t} / Σ_j w̃_t(j)^{γ_t}

and the head reads r_t = Σ_i w_t(i) M_t(i) or writes
M_{t+1}(i) = M_t(i) ∘ (1 − w_t(i) e_t) + w_t(i) a_t.

Conventions shared by every function here:

* **Shapes.** The memory is (..., N, D): row i is the book's slot M_t(i)
  (the paper's N × M matrix, N locations of width M; we call the width D).
  A head's key, erase and add vectors are (..., D); weightings are (..., N).
  Leading axes are batch axes and broadcast. Several heads are a batch axis of
  the head arguments: give the memory an extra axis (``memory[..., None, :, :]``)
  for ``address`` and ``read``; ``write`` takes an explicit head axis.
* **Scalars.** β, g and γ are Python floats or arrays of the batch shape
  (...,) in the memory's dtype; each head of a batch may have its own.
* **Cosine of a zero vector.** cos(k, m) = kᵀm / (‖k‖ ‖m‖) is undefined when
  k = 0 or m = 0; here it is **defined as 0** ("orthogonal to everything").
  A zero key therefore gives uniform content weights, and a zero memory row
  scores as an orthogonal one. The norms are computed after dividing each
  vector by its largest |entry|, so no overflow or underflow occurs for any
  finite input (|x| up to 3e38 in float32), and cos is clipped to [−1, 1].
  # Note: the paper leaves cos(0, ·) undefined; common implementations add an
  # ε (e.g. 1e-8) to the norms' product, which also gives 0 for a zero vector
  # but breaks exact invariance under scaling k by c > 0 for tiny vectors.
  # Defining 0 keeps cos(c k, m) = cos(k, m) exact for every c > 0.
* **Shift layout.** ``shift`` is (..., S) with S = 2R + 1 odd: entry
  ``shift[..., R + r]`` is the probability of offset r ∈ {−R, …, R}. The
  paper's three offsets {−1, 0, +1} are S = 3, ``[s(−1), s(0), s(+1)]``;
  offset +1 moves the focus one slot forward (w̃(i) = w^g(i − 1)). Offsets are
  taken mod N, so when S > N several offsets land on one residue and their
  probabilities add (with N = 1 every shift is the identity). A general
  distribution over Z_N is offsets 0..N−1: a vector of length 2N − 1 whose
  first N − 1 entries (negative offsets) are 0.
* **Distributions** (previous weights, shift) must be non-negative and sum to
  1 within ``distribution_tolerance(dtype)`` = √eps (≈ 1.5e-8 in float64,
  3.5e-4 in float32); sharpening only needs non-negative weights with a
  positive sum (it renormalises).
* **Write order with several heads**: all erases, then all adds, as in the
  paper (§3.2: "the erase and add operations … the order in which the adds are
  performed by multiple heads is irrelevant"): M̃(i) = M(i) ∘ Π_h (1 − w_h(i) e_h),
  then M'(i) = M̃(i) + Σ_h w_h(i) a_h. Write weights need only lie in [0, 1].
* Nothing here modifies its arguments: every function returns a new array.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from impl import _validation as check
from impl._typing import FloatArray
from impl.attention import attention_distribution
from impl.scores import ScoreFunction
from impl.softmax import softmax

ScalarOrArray = float | FloatArray
"""A head scalar (β, g, γ): a Python float, or an array of the batch shape (...,)."""


def distribution_tolerance(dtype: np.dtype[Any] | type[np.floating[Any]]) -> float:
    """How far a distribution's sum may be from 1 and still be accepted: √eps of the dtype.

    Book: §8.5.2 (w_{t−1} and s_t are distributions). √eps leaves room for the
    rounding of sums of many float32 terms while still catching real mistakes
    (a sum of 0.999 or 1.01 is rejected in both dtypes).
    """
    return math.sqrt(float(np.finfo(dtype).eps))


# --- validation -----------------------------------------------------------------------------


def _memory(memory: object) -> FloatArray:
    m = check.float_array(memory, "memory", min_ndim=2)
    if m.shape[-2] == 0 or m.shape[-1] == 0:
        raise ValueError(f"memory must have N ≥ 1 slots of width D ≥ 1, got shape {m.shape}")
    return m


def _head_scalar(
    value: object,
    name: str,
    dtype: np.dtype[Any],
    *,
    lower: float,
    upper: float = math.inf,
    lower_open: bool = False,
    expected: str,
    batch: tuple[int, ...] | None = None,
) -> FloatArray:
    """A head scalar as an array of ``dtype`` (0-d for a Python float), checked in range."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number or a float array, got bool")
    if isinstance(value, int | float | np.integer | np.floating):
        array: FloatArray = np.asarray(value, dtype=dtype)
    elif isinstance(value, np.ndarray):
        array = check.float_array(value, name)
        if array.dtype != dtype:
            raise TypeError(f"{name} has dtype {array.dtype}, memory has {dtype}")
    else:
        raise TypeError(
            f"{name} must be a real number or a float array, got {type(value).__name__}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite ({expected}), got {value}")
    if batch is not None:
        try:
            np.broadcast_shapes(array.shape, batch)
        except ValueError:
            raise ValueError(
                f"{name} has shape {array.shape}, which does not broadcast to the batch "
                f"shape {batch}"
            ) from None
    low_bad = array <= lower if lower_open else array < lower
    if np.any(low_bad) or np.any(array > upper):
        bad = array[np.logical_or(low_bad, array > upper)].ravel()[0]
        raise ValueError(f"{name} must satisfy {expected}, got {bad}")
    return array


def _distribution(x: object, name: str, dtype: np.dtype[Any], *, size: int | None) -> FloatArray:
    w = check.float_array(x, name, min_ndim=1)
    if w.dtype != dtype:
        raise TypeError(f"{name} has dtype {w.dtype}, memory has {dtype}")
    if size is not None and w.shape[-1] != size:
        raise ValueError(f"{name} has {w.shape[-1]} entries, memory has N = {size} slots")
    if (w < 0).any():
        raise ValueError(f"{name} must be a probability distribution: it has a negative entry")
    total: FloatArray = w.sum(axis=-1)
    tolerance = distribution_tolerance(dtype)
    if np.any(np.abs(total - 1) > tolerance):
        worst = float(total.ravel()[np.argmax(np.abs(total - 1).ravel())])
        raise ValueError(
            f"{name} must be a probability distribution over its last axis: a row sums to "
            f"{worst}, not 1 (tolerance {tolerance:.1e})"
        )
    return w


def _in_unit_interval(x: object, name: str, dtype: np.dtype[Any]) -> FloatArray:
    v = check.float_array(x, name, min_ndim=1)
    if v.dtype != dtype:
        raise TypeError(f"{name} has dtype {v.dtype}, memory has {dtype}")
    if (v < 0).any() or (v > 1).any():
        raise ValueError(f"{name} must have every entry in [0, 1]")
    return v


# --- content addressing ---------------------------------------------------------------------


def _unit_rows(x: FloatArray) -> FloatArray:
    """x / ‖x‖ along the last axis, computed overflow-free; a zero row stays 0."""
    scale: FloatArray = np.max(np.abs(x), axis=-1, keepdims=True)
    safe_scale = np.where(scale > 0, scale, 1).astype(x.dtype)
    y: FloatArray = x / safe_scale  # entries in [−1, 1], max |entry| = 1 unless x = 0
    norm: FloatArray = np.sqrt(np.sum(y * y, axis=-1, keepdims=True))
    safe_norm = np.where(norm > 0, norm, 1).astype(x.dtype)
    unit: FloatArray = y / safe_norm
    return unit


def cosine_score(query: FloatArray, keys: FloatArray) -> FloatArray:
    r"""Cosine similarity scores cos(q_l, x_n) = q_lᵀ x_n / (‖q_l‖ ‖x_n‖), 0 if either is 0.

    Book: §8.5.2, the similarity K[u, v] = u·v / (‖u‖ ‖v‖) of NTM content
    addressing (Graves et al. 2014, eq. 6). A ``ScoreFunction`` for
    ``impl.attention``.
    Shapes: query (..., L, D), keys (..., N, D) -> (..., L, N), in [−1, 1].
    Assumptions: cos with a zero vector is 0 (see the module docstring).
    Spec: ``spec.neural_turing_machine.cosine``.
    """
    q = check.float_array(query, "query", min_ndim=2)
    k = check.float_array(keys, "keys", min_ndim=2)
    check.same_dtype(query=q, keys=k)
    check.feature_match("keys", k, "query", q)
    check.batch_broadcast(query=q, keys=k)
    products: FloatArray = _unit_rows(q) @ np.swapaxes(_unit_rows(k), -1, -2)
    clipped: FloatArray = np.clip(products, -1, 1).astype(q.dtype)  # rounding can exceed 1
    return clipped


def content_addressing(
    key: FloatArray, memory: FloatArray, key_strength: ScalarOrArray
) -> FloatArray:
    r"""Content weights w^c(i) = softmax_i(β cos(k, M(i))).

    Book: §8.5.2, content addressing (Graves et al. 2014, eq. 5).
    Shapes: key (..., D), memory (..., N, D), key_strength β a float or
    (...,) -> (..., N); batch axes broadcast.
    Assumptions: β finite and > 0; cos with a zero vector is 0, so a zero key
    gives uniform weights. As β → ∞ the weights tend to uniform over the
    slots of maximal cosine; any finite β is accepted (β = 1e6 is fine).
    This is ``impl.attention.attention_distribution`` with the score β·cos.
    Spec: ``spec.neural_turing_machine.content_weights``.
    """
    m = _memory(memory)
    k = check.float_array(key, "key", min_ndim=1)
    check.same_dtype(key=k, memory=m)
    if k.shape[-1] != m.shape[-1]:
        raise ValueError(f"key has {k.shape[-1]} features, memory has width D = {m.shape[-1]}")
    try:
        head_batch = np.broadcast_shapes(k.shape[:-1], m.shape[:-2])
    except ValueError:
        raise ValueError(
            f"batch axes of key {k.shape[:-1]} and memory {m.shape[:-2]} do not broadcast"
        ) from None
    beta = _head_scalar(
        key_strength,
        "key_strength",
        m.dtype,
        lower=0,
        lower_open=True,
        expected="β > 0",
        batch=head_batch,
    )
    batch = np.broadcast_shapes(head_batch, beta.shape)
    query = np.broadcast_to(k, (*batch, k.shape[-1]))[..., None, :]  # one query per head: L = 1
    beta_column = np.broadcast_to(beta, batch)[..., None, None]

    def strength_times_cosine(q: FloatArray, x: FloatArray) -> FloatArray:
        scores: FloatArray = (beta_column * cosine_score(q, x)).astype(m.dtype)  # β cos(k, M(i))
        return scores

    score: ScoreFunction = strength_times_cosine
    weights = attention_distribution(query, m, score=score)
    result: FloatArray = weights[..., 0, :]
    return result


# --- location addressing --------------------------------------------------------------------


def interpolate(
    content_weights: FloatArray, previous_weights: FloatArray, gate: ScalarOrArray
) -> FloatArray:
    r"""Gated weights w^g = g w^c + (1 − g) w_{t−1}.

    Book: §8.5.2, interpolation (Graves et al. 2014, eq. 7).
    Shapes: content_weights (..., N), previous_weights (..., N), gate g a
    float or (...,) -> (..., N).
    Assumptions: both weightings are distributions, g ∈ [0, 1]; then so is the result.
    Spec: ``spec.neural_turing_machine.interpolate``.
    """
    wc = check.float_array(content_weights, "content_weights", min_ndim=1)
    dtype = wc.dtype
    wc = _distribution(wc, "content_weights", dtype, size=None)
    previous = _distribution(previous_weights, "previous_weights", dtype, size=wc.shape[-1])
    batch = np.broadcast_shapes(wc.shape[:-1], previous.shape[:-1])
    g = _head_scalar(gate, "gate", dtype, lower=0, upper=1, expected="0 ≤ g ≤ 1", batch=batch)
    g = g[..., None]
    gated: FloatArray = (g * wc + (1 - g) * previous).astype(dtype)
    return gated


def circular_shift(weights: FloatArray, shift: FloatArray) -> FloatArray:
    r"""Circular convolution w̃(i) = Σ_j w(j) s((i − j) mod N) = Σ_r s(r) w((i − r) mod N).

    Book: §8.5.2, shift (Graves et al. 2014, eq. 8).
    Shapes: weights (..., N), shift (..., S) with S = 2R + 1 odd, entry R + r
    the probability of offset r (see the module docstring) -> (..., N).
    Assumptions: both are distributions; then so is the result (a convolution
    of distributions on Z_N). The one-hot shift at offset 0 (δ_0) is the
    identity; at offset +1 it rotates w forward by one slot.
    Spec: ``spec.neural_turing_machine.circular_convolution``.
    """
    w = check.float_array(weights, "weights", min_ndim=1)
    w = _distribution(w, "weights", w.dtype, size=None)
    s = _distribution(shift, "shift", w.dtype, size=None)
    if s.shape[-1] % 2 != 1:
        raise ValueError(
            f"shift must have an odd length 2R + 1 (offsets −R..R), got {s.shape[-1]} entries"
        )
    radius = s.shape[-1] // 2
    batch = np.broadcast_shapes(w.shape[:-1], s.shape[:-1])
    shifted: FloatArray = np.zeros((*batch, w.shape[-1]), dtype=w.dtype)
    for offset in range(-radius, radius + 1):
        # np.roll(w, r)[i] = w[(i − r) mod N]: the mass at j moves to j + r.
        probability = s[..., radius + offset, None]
        shifted = shifted + probability * np.roll(w, offset, axis=-1)
    return shifted


def sharpen(weights: FloatArray, sharpening: ScalarOrArray) -> FloatArray:
    r"""Sharpened weights w(i) = w̃(i)^γ / Σ_j w̃(j)^γ, computed as softmax(γ log w̃).

    Book: §8.5.2, sharpening (Graves et al. 2014, eq. 9).
    Shapes: weights (..., N), sharpening γ a float or (...,) -> (..., N).
    Assumptions: γ ≥ 1 and finite; weights non-negative with a positive sum
    (zero entries stay exactly 0). γ = 1 renormalises (identity on
    distributions); large γ (50, 1e6) concentrates on the maximal entries
    without overflow or underflow to 0/0, because the powers are taken in log
    space with the row maximum subtracted.
    Spec: ``spec.neural_turing_machine.sharpen``.
    """
    w = check.float_array(weights, "weights", min_ndim=1)
    if (w < 0).any():
        raise ValueError("weights must be non-negative to be sharpened")
    if np.any(w.sum(axis=-1) <= 0):
        raise ValueError("weights must have a positive sum in every row to be sharpened")
    gamma = _head_scalar(
        sharpening, "sharpening", w.dtype, lower=1, expected="γ ≥ 1", batch=w.shape[:-1]
    )[..., None]
    with np.errstate(divide="ignore"):
        log_w: FloatArray = np.log(w)  # log 0 = −inf: a masked position of the softmax
    logits: FloatArray = (gamma * log_w).astype(w.dtype)  # γ log w̃(i); γ ≥ 1 keeps −inf as −inf
    sharpened = softmax(logits)
    return sharpened


@dataclass(frozen=True)
class AddressingStages:
    """The four weightings of one addressing step, each (..., N): w^c, w^g, w̃, w."""

    content: FloatArray
    gated: FloatArray
    shifted: FloatArray
    weights: FloatArray


def address_stages(
    key: FloatArray,
    memory: FloatArray,
    previous_weights: FloatArray,
    *,
    key_strength: ScalarOrArray,
    gate: ScalarOrArray,
    shift: FloatArray,
    sharpening: ScalarOrArray,
) -> AddressingStages:
    r"""All four stages of NTM addressing: content → interpolate → shift → sharpen.

    Book: §8.5.2 (Graves et al. 2014, fig. 2 and eqs. 5–9).
    Shapes: key (..., D), memory (..., N, D), previous_weights (..., N),
    shift (..., S), scalars float or (...,) -> four (..., N) weightings.
    Spec: ``spec.neural_turing_machine`` (one function per stage).
    """
    content = content_addressing(key, memory, key_strength)
    gated = interpolate(content, previous_weights, gate)
    shifted = circular_shift(gated, shift)
    return AddressingStages(content, gated, shifted, sharpen(shifted, sharpening))


def address(
    key: FloatArray,
    memory: FloatArray,
    previous_weights: FloatArray,
    *,
    key_strength: ScalarOrArray,
    gate: ScalarOrArray,
    shift: FloatArray,
    sharpening: ScalarOrArray,
) -> FloatArray:
    r"""The head's weighting w_t: content, interpolation, shift and sharpening composed.

    Book: §8.5.2 (Graves et al. 2014, eqs. 5–9).
    Shapes: see ``address_stages``; returns w_t (..., N), a distribution.
    """
    return address_stages(
        key,
        memory,
        previous_weights,
        key_strength=key_strength,
        gate=gate,
        shift=shift,
        sharpening=sharpening,
    ).weights


# --- read and write -------------------------------------------------------------------------


def read(memory: FloatArray, weights: FloatArray) -> FloatArray:
    r"""Read vector r = Σ_i w(i) M(i).

    Book: §8.5.2, reading (Graves et al. 2014, eq. 2).
    Shapes: memory (..., N, D), weights (..., N) -> (..., D).
    Assumptions: none on the weights beyond being finite (the read is linear
    in the memory and in the weights); the memory is not modified.
    Spec: ``spec.neural_turing_machine.read``.
    """
    m = _memory(memory)
    w = check.float_array(weights, "weights", min_ndim=1)
    check.same_dtype(memory=m, weights=w)
    if w.shape[-1] != m.shape[-2]:
        raise ValueError(f"weights has {w.shape[-1]} entries, memory has N = {m.shape[-2]} slots")
    check.batch_broadcast(memory=m, weights=w[..., None, :])
    result: FloatArray = (w[..., None, :] @ m)[..., 0, :]  # Σ_i w(i) M(i)
    return result


def write_heads(
    memory: FloatArray, weights: FloatArray, erase: FloatArray, add: FloatArray
) -> FloatArray:
    r"""Write with H heads: all erases, then all adds.

    M̃(i) = M(i) ∘ Π_h (1 − w_h(i) e_h),  M'(i) = M̃(i) + Σ_h w_h(i) a_h.

    Book: §8.5.2, m_{t+1,n} = m_{t,n} ∘ (1 − α_{t,n} e_t) + α_{t,n} a_t, with
    the paper's multi-head order (Graves et al. 2014, eqs. 3–4 and §3.2).
    Shapes: memory (..., N, D), weights (..., H, N), erase (..., H, D),
    add (..., H, D) -> (..., N, D).
    Assumptions: weights and erase in [0, 1]; a slot with weight 0 in every
    head is unchanged; with one head, weight 1 and e = 1 the slot becomes a.
    The memory argument is not modified (a new array is returned).
    Spec: ``spec.neural_turing_machine.write``.
    """
    m = _memory(memory)
    w = _in_unit_interval(weights, "weights", m.dtype)
    e = _in_unit_interval(erase, "erase", m.dtype)
    a = check.float_array(add, "add", min_ndim=1)
    check.same_dtype(memory=m, add=a)
    if w.ndim < 2 or e.ndim < 2 or a.ndim < 2:
        raise ValueError(
            "write_heads needs a head axis: weights (..., H, N), erase and add (..., H, D); "
            f"got weights {w.shape}, erase {e.shape}, add {a.shape} (use write for one head)"
        )
    if w.shape[-1] != m.shape[-2]:
        raise ValueError(f"weights has {w.shape[-1]} entries, memory has N = {m.shape[-2]} slots")
    for name, vector in (("erase", e), ("add", a)):
        if vector.shape[-1] != m.shape[-1]:
            raise ValueError(
                f"{name} has {vector.shape[-1]} features, memory has width D = {m.shape[-1]}"
            )
    if not w.shape[-2] == e.shape[-2] == a.shape[-2]:
        raise ValueError(
            f"weights, erase and add must have the same number of heads H, got "
            f"{w.shape[-2]}, {e.shape[-2]}, {a.shape[-2]}"
        )
    check.batch_broadcast(memory=m, weights=w, erase=e, add=a)
    w_nd = w[..., :, :, None]  # (..., H, N, 1)
    retain: FloatArray = np.prod(1 - w_nd * e[..., :, None, :], axis=-3)  # Π_h (1 − w_h(i) e_h)
    added: FloatArray = np.sum(w_nd * a[..., :, None, :], axis=-3)  # Σ_h w_h(i) a_h
    written: FloatArray = (m * retain + added).astype(m.dtype)
    return written


def write(
    memory: FloatArray, weights: FloatArray, erase: FloatArray, add: FloatArray
) -> FloatArray:
    r"""Erase-then-add write M'(i) = M(i) ∘ (1 − w(i) e) + w(i) a with one head.

    Book: §8.5.2, m_{t+1,n} = m_{t,n} ∘ (1 − α_{t,n} e_t) + α_{t,n} a_t
    (Graves et al. 2014, eqs. 3–4).
    Shapes: memory (..., N, D), weights (..., N), erase (..., D), add (..., D)
    -> (..., N, D).
    Assumptions: weights and erase entries in [0, 1]. Every slot changes in
    proportion to its weight; weight 0 leaves it unchanged, weight 1 with
    e = 1 replaces it by a. The memory argument is not modified.
    Spec: ``spec.neural_turing_machine.write``.
    """
    w = check.float_array(weights, "weights", min_ndim=1)
    e = check.float_array(erase, "erase", min_ndim=1)
    a = check.float_array(add, "add", min_ndim=1)
    return write_heads(memory, w[..., None, :], e[..., None, :], a[..., None, :])


# --- a small feed-forward controller --------------------------------------------------------


@dataclass(frozen=True)
class HeadParameters:
    r"""The values one head emits at step t (each with batch axes (...)).

    key (..., D); key_strength β (...,) > 0; gate g (...,) in [0, 1]; shift
    (..., S) a distribution; sharpening γ (...,) ≥ 1; erase (..., D) in [0, 1];
    add (..., D).
    """

    key: FloatArray
    key_strength: FloatArray
    gate: FloatArray
    shift: FloatArray
    sharpening: FloatArray
    erase: FloatArray
    add: FloatArray


def _softplus(x: FloatArray) -> FloatArray:
    result: FloatArray = np.logaddexp(0, x).astype(x.dtype)  # log(1 + eˣ), overflow-free
    return result


def _sigmoid(x: FloatArray) -> FloatArray:
    result: FloatArray = (0.5 * (1 + np.tanh(0.5 * x))).astype(x.dtype)  # overflow-free
    return result


@dataclass(frozen=True)
class FeedForwardController:
    r"""A linear layer z = W x + b whose output is split into one head's parameters.

    Graves et al. (2014, §3.1, §4) let a feed-forward or LSTM controller emit
    the head parameters; the activations below are the usual choices that put
    each parameter in its range: k = tanh, β = softplus (> 0), g = sigmoid,
    s = softmax over the 2R + 1 offsets, γ = 1 + softplus (≥ 1), e = sigmoid,
    a = tanh.
    Shapes: W (P, n), b (P,) with P = 3D + 3 + (2R + 1): the rows of z are,
    in order, k (D), β (1), g (1), s (2R + 1), γ (1), e (D), a (D).
    # Note: the paper does not fix these activations or the layout of z; this
    # is a small, documented choice so that addressing can be driven end to end.
    """

    W: FloatArray
    b: FloatArray
    memory_width: int
    shift_radius: int = 1

    def __post_init__(self) -> None:
        W = check.float_array(self.W, "W", min_ndim=2)
        b = check.float_array(self.b, "b", min_ndim=1)
        check.same_dtype(W=W, b=b)
        d = check.positive_int(self.memory_width, "memory_width")
        if isinstance(self.shift_radius, bool) or not isinstance(self.shift_radius, int):
            raise TypeError(f"shift_radius must be an int, got {type(self.shift_radius).__name__}")
        if self.shift_radius < 0:
            raise ValueError(f"shift_radius must be ≥ 0, got {self.shift_radius}")
        expected = 3 * d + 3 + 2 * self.shift_radius + 1
        if W.ndim != 2 or b.shape != (W.shape[0],) or W.shape[0] != expected:
            raise ValueError(
                f"W must be (P, n) and b (P,) with P = 3D + 3 + (2R + 1) = {expected}, "
                f"got W {W.shape}, b {b.shape}"
            )

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        input_size: int,
        memory_width: int,
        shift_radius: int = 1,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "FeedForwardController":
        """Draw W uniformly in ±1/√n and b = 0 from ``rng``."""
        gen = check.generator(rng)
        n = check.positive_int(input_size, "input_size")
        d = check.positive_int(memory_width, "memory_width")
        rows = 3 * d + 3 + 2 * shift_radius + 1
        bound = 1.0 / math.sqrt(n)
        W = gen.uniform(-bound, bound, size=(rows, n)).astype(dtype)
        return cls(W=W, b=np.zeros(rows, dtype=dtype), memory_width=d, shift_radius=shift_radius)

    def heads(self, x: FloatArray) -> HeadParameters:
        r"""One head's parameters from the controller input: activations of z = W x + b.

        Book: §8.5.2 (the controller emits k_t, β_t, g_t, s_t, γ_t, e_t, a_t).
        Shapes: x (..., n) -> ``HeadParameters`` with batch axes (...); see the
        class docstring for the layout of z and the activations.
        """
        inputs = check.float_array(x, "x", min_ndim=1)
        check.same_dtype(x=inputs, W=self.W)
        if inputs.shape[-1] != self.W.shape[1]:
            raise ValueError(f"x has {inputs.shape[-1]} features, W expects {self.W.shape[1]}")
        z: FloatArray = inputs @ self.W.T + self.b
        d, s = self.memory_width, 2 * self.shift_radius + 1
        cuts = np.cumsum([d, 1, 1, s, 1, d])
        k, beta, g, shift, gamma, e, a = np.split(z, cuts, axis=-1)
        return HeadParameters(
            key=np.tanh(k),
            key_strength=_softplus(beta[..., 0]) + np.asarray(np.finfo(z.dtype).tiny, z.dtype),
            gate=_sigmoid(g[..., 0]),
            shift=softmax(shift),
            sharpening=(1 + _softplus(gamma[..., 0])).astype(z.dtype),
            erase=_sigmoid(e),
            add=np.tanh(a),
        )


@dataclass(frozen=True)
class StepResult:
    """One NTM step: the read vector (..., D), the new read/write weights (..., N), new memory."""

    read_vector: FloatArray
    read_weights: FloatArray
    write_weights: FloatArray
    memory: FloatArray


def ntm_step(
    memory: FloatArray,
    previous_read_weights: FloatArray,
    previous_write_weights: FloatArray,
    read_head: HeadParameters,
    write_head: HeadParameters,
) -> StepResult:
    r"""One memory step with a read head and a write head: read M_t, then write M_{t+1}.

    Book: §8.5.2 (Graves et al. 2014, §3: the read r_t uses M_t; the write
    produces M_{t+1}).
    Shapes: memory (..., N, D), previous weights (..., N), heads as
    ``HeadParameters`` -> ``StepResult``.
    """

    def head_weights(head: HeadParameters, previous: FloatArray) -> FloatArray:
        return address(
            head.key,
            memory,
            previous,
            key_strength=head.key_strength,
            gate=head.gate,
            shift=head.shift,
            sharpening=head.sharpening,
        )

    check.instance(read_head, HeadParameters, "read_head")
    check.instance(write_head, HeadParameters, "write_head")
    read_weights = head_weights(read_head, previous_read_weights)
    write_weights = head_weights(write_head, previous_write_weights)
    read_vector = read(memory, read_weights)
    new_memory = write(memory, write_weights, write_head.erase, write_head.add)
    return StepResult(read_vector, read_weights, write_weights, new_memory)
