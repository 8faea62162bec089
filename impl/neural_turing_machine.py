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

Checked edges (issue 7). Every public function checks and names its
arguments once, then calls private kernels (``_content``, ``_interpolate``,
``_shift``, ``_sharpen``, ``_read``, ``_write``) that trust them; ``ntm_step``
checks the memory once for both heads, the read and the write.

* **Zero-size axes.** A memory with N = 0 slots or width D = 0 is a
  ``ValueError`` (content addressing over no slot has no distribution, and the
  cosine of width-0 vectors is 0/0); a batch axis of size 0 gives empty results.
* **Scalars** β, g, γ given as Python or NumPy scalars are checked *in the
  memory's dtype*: 1e39 overflows float32 and is refused, and β = 1e-50
  rounds to 0 in float32 and is refused as β > 0 would be violated.
  Any β or γ that is finite in the dtype is fine: β·cos is bounded by β, and
  γ multiplies log-weights shifted so that their maximum is 0 (an underflow
  there gives weight 0, the correctly rounded limit).
* **Overflow.** Addressing never overflows for finite inputs. The read
  Σ w(i) M(i) and the write M ∘ Π(1 − w e) + Σ w a can exceed the dtype's
  range only when the result itself does (or, for the read with arbitrary
  finite weights, when a product w(i) M(i) does); that is a ``ValueError``
  naming the arguments, never an inf or NaN in the result.
* **Containers.** ``HeadParameters`` and ``FeedForwardController`` check
  themselves when built and keep read-only private copies of their arrays: an
  in-place edit raises NumPy's "assignment destination is read-only", and
  ``dataclasses.replace`` runs the checks again.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from impl import _numerics as num
from impl import _validation as check
from impl._numerics import softmax
from impl._typing import FloatArray

ScalarOrArray = float | np.floating[Any] | FloatArray
"""A head scalar (β, g, γ): a Python or NumPy float, or an array of the batch shape (...,)."""


def distribution_tolerance(dtype: np.dtype[Any] | type[np.floating[Any]]) -> float:
    """How far a distribution's sum may be from 1 and still be accepted: √eps of the dtype.

    Book: §8.5.2 (w_{t−1} and s_t are distributions). √eps leaves room for the
    rounding of sums of many float32 terms while still catching real mistakes
    (a sum of 0.999 or 1.01 is rejected in both dtypes). ``dtype`` must be
    float32 or float64 (else ``TypeError``).
    """
    return math.sqrt(float(np.finfo(check.float_dtype(dtype)).eps))


# --- validation (at the public edge only) ---------------------------------------------------


def _memory(memory: object, name: str = "memory") -> FloatArray:
    m = check.float_array(memory, name, min_ndim=2)
    if m.shape[-2] == 0 or m.shape[-1] == 0:
        raise ValueError(
            f"{name} must have N ≥ 1 slots of width D ≥ 1, got shape {m.shape} (addressing "
            "over no slot has no distribution; the cosine of width-0 vectors is 0/0)"
        )
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
    against: str = "memory",
) -> FloatArray:
    """A head scalar as an array of ``dtype`` (0-d for a Python or NumPy scalar), checked in range.

    A scalar is checked after rounding to ``dtype`` (1e39 overflows float32;
    β = 1e-50 rounds to 0 there); an array must already have ``dtype``.
    """
    if isinstance(value, np.ndarray):
        array = check.float_array(value, name)
        if array.dtype != dtype:
            raise TypeError(f"{name} has dtype {array.dtype}, {against} has {dtype}")
    else:
        array = np.asarray(check.real_in_dtype(value, name, dtype), dtype=dtype)
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
        raise ValueError(f"{name} must satisfy {expected} (in {dtype}), got {value!r} -> {bad}")
    return array


def _distribution(
    x: object, name: str, dtype: np.dtype[Any], *, size: int | None, against: str = "memory"
) -> FloatArray:
    w = check.float_array(x, name, min_ndim=1)
    if w.dtype != dtype:
        raise TypeError(f"{name} has dtype {w.dtype}, {against} has {dtype}")
    if size is not None and w.shape[-1] != size:
        raise ValueError(f"{name} has {w.shape[-1]} entries, memory has N = {size} slots")
    return check.distribution(w, name, tolerance=distribution_tolerance(dtype))


def _unit_entries(
    x: object, name: str, dtype: np.dtype[Any], against: str = "memory"
) -> FloatArray:
    v = check.unit_interval(x, name, min_ndim=1)
    if v.dtype != dtype:
        raise TypeError(f"{name} has dtype {v.dtype}, {against} has {dtype}")
    return v


def _key(key: object, m: FloatArray, name: str = "key") -> FloatArray:
    k = check.float_array(key, name, min_ndim=1)
    check.same_dtype(**{name: k, "memory": m})
    if k.shape[-1] != m.shape[-1]:
        raise ValueError(f"{name} has {k.shape[-1]} features, memory has width D = {m.shape[-1]}")
    return k


def _broadcast(**shapes: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        listing = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"batch axes do not broadcast: {listing}") from None


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


def _cosine(q: FloatArray, k: FloatArray) -> FloatArray:
    """cos(q_l, k_n) for q (..., L, D), k (..., N, D) -> (..., L, N), in [−1, 1]."""
    products: FloatArray = _unit_rows(q) @ np.swapaxes(_unit_rows(k), -1, -2)
    clipped: FloatArray = np.clip(products, -1, 1).astype(q.dtype)  # rounding can exceed 1
    return clipped


def cosine_score(query: FloatArray, keys: FloatArray) -> FloatArray:
    r"""Cosine similarity scores cos(q_l, x_n) = q_lᵀ x_n / (‖q_l‖ ‖x_n‖), 0 if either is 0.

    Book: §8.5.2, the similarity K[u, v] = u·v / (‖u‖ ‖v‖) of NTM content
    addressing (Graves et al. 2014, eq. 6). A ``ScoreFunction`` for
    ``impl.attention``.
    Shapes: query (..., L, D), keys (..., N, D) -> (..., L, N), in [−1, 1].
    Assumptions: cos with a zero vector is 0 (see the module docstring); so
    is every cosine when D = 0 (the empty vector is the zero vector). Any
    finite input works (no overflow: rows are scaled by their max |entry|).
    Spec: ``spec.neural_turing_machine.cosine``.
    """
    q = check.float_array(query, "query", min_ndim=2)
    k = check.float_array(keys, "keys", min_ndim=2)
    check.same_dtype(query=q, keys=k)
    check.feature_match("keys", k, "query", q)
    check.batch_broadcast(query=q, keys=k)
    return _cosine(q, k)


def _content(k: FloatArray, m: FloatArray, beta: FloatArray) -> FloatArray:
    """softmax_i(β cos(k, M(i))): k (..., D), m (..., N, D), β broadcasting to (...) -> (..., N)."""
    beta_column = beta[..., None]
    cos: FloatArray = _cosine(k[..., None, :], m)[..., 0, :]  # (..., N)
    scores: FloatArray = (beta_column * cos).astype(m.dtype)  # β cos(k, M(i)), |·| ≤ β: finite
    return softmax(scores)


def content_addressing(
    key: FloatArray, memory: FloatArray, key_strength: ScalarOrArray
) -> FloatArray:
    r"""Content weights w^c(i) = softmax_i(β cos(k, M(i))).

    Book: §8.5.2, content addressing (Graves et al. 2014, eq. 5).
    Shapes: key (..., D), memory (..., N, D), key_strength β a float or
    (...,) -> (..., N); batch axes broadcast (an array β may add batch axes:
    one strength per head).
    Assumptions: β > 0 and finite in the memory's dtype (checked after
    rounding: see the module docstring); cos with a zero vector is 0, so a
    zero key gives uniform weights. As β → ∞ the weights tend to uniform over
    the slots of maximal cosine; any finite β is accepted (β = 1e6 is fine).
    This is key-value attention with the score β·cos (``impl.attention``).
    Spec: ``spec.neural_turing_machine.content_weights``.
    """
    m = _memory(memory)
    k = _key(key, m)
    head_batch = _broadcast(key=k.shape[:-1], memory=m.shape[:-2])
    beta = _head_scalar(
        key_strength,
        "key_strength",
        m.dtype,
        lower=0,
        lower_open=True,
        expected="β > 0",
        batch=head_batch,
    )
    return _content(k, m, beta)


# --- location addressing --------------------------------------------------------------------


def _interpolate(wc: FloatArray, previous: FloatArray, gate: FloatArray) -> FloatArray:
    g = gate[..., None]
    gated: FloatArray = (g * wc + (1 - g) * previous).astype(wc.dtype)
    return gated


def interpolate(
    content_weights: FloatArray, previous_weights: FloatArray, gate: ScalarOrArray
) -> FloatArray:
    r"""Gated weights w^g = g w^c + (1 − g) w_{t−1}.

    Book: §8.5.2, interpolation (Graves et al. 2014, eq. 7).
    Shapes: content_weights (..., N), previous_weights (..., N), gate g a
    float or (...,) -> (..., N).
    Assumptions: both weightings are distributions, g ∈ [0, 1] (a gate
    outside, or a row not summing to 1, is a ``ValueError``); then so is the result.
    Spec: ``spec.neural_turing_machine.interpolate``.
    """
    wc = check.float_array(content_weights, "content_weights", min_ndim=1)
    dtype = wc.dtype
    wc = _distribution(wc, "content_weights", dtype, size=None)
    previous = _distribution(
        previous_weights, "previous_weights", dtype, size=wc.shape[-1], against="content_weights"
    )
    batch = _broadcast(content_weights=wc.shape[:-1], previous_weights=previous.shape[:-1])
    g = _head_scalar(
        gate,
        "gate",
        dtype,
        lower=0,
        upper=1,
        expected="0 ≤ g ≤ 1",
        batch=batch,
        against="content_weights",
    )
    return _interpolate(wc, previous, g)


def _shift(w: FloatArray, s: FloatArray) -> FloatArray:
    """Circular convolution of w (..., N) with the offsets −R..R of s (..., 2R + 1)."""
    n = w.shape[-1]
    radius = s.shape[-1] // 2
    if s.shape[-1] > n:
        # Note: offsets are taken mod N; with S > N fold them onto the N residues first,
        # so the loop below runs min(S, N) times (a long shift vector cannot loop for minutes).
        residues = np.arange(-radius, radius + 1) % n
        folded = np.zeros((n, *s.shape[:-1]), dtype=s.dtype)
        np.add.at(folded, residues, np.moveaxis(s, -1, 0))
        s = np.moveaxis(folded, 0, -1)  # entry r = probability of offset r ∈ {0..N−1}
        offsets = range(n)
        base = 0
    else:
        offsets = range(-radius, radius + 1)
        base = radius
    batch = np.broadcast_shapes(w.shape[:-1], s.shape[:-1])
    shifted: FloatArray = np.zeros((*batch, n), dtype=w.dtype)
    for offset in offsets:
        # np.roll(w, r)[i] = w[(i − r) mod N]: the mass at j moves to j + r.
        probability = s[..., base + offset, None]
        shifted = shifted + probability * np.roll(w, offset, axis=-1)
    return shifted


def circular_shift(weights: FloatArray, shift: FloatArray) -> FloatArray:
    r"""Circular convolution w̃(i) = Σ_j w(j) s((i − j) mod N) = Σ_r s(r) w((i − r) mod N).

    Book: §8.5.2, shift (Graves et al. 2014, eq. 8).
    Shapes: weights (..., N), shift (..., S) with S = 2R + 1 odd, entry R + r
    the probability of offset r (see the module docstring) -> (..., N).
    Assumptions: both are distributions (else ``ValueError``); then so is the
    result (a convolution of distributions on Z_N). The one-hot shift at
    offset 0 (δ_0) is the identity; at offset +1 it rotates w forward by one
    slot. Offsets beyond N are folded mod N first (cost min(S, N) rolls).
    Spec: ``spec.neural_turing_machine.circular_convolution``.
    """
    w = check.float_array(weights, "weights", min_ndim=1)
    w = _distribution(w, "weights", w.dtype, size=None)
    s = _distribution(shift, "shift", w.dtype, size=None, against="weights")
    if s.shape[-1] % 2 != 1:
        raise ValueError(
            f"shift must have an odd length 2R + 1 (offsets −R..R), got {s.shape[-1]} entries"
        )
    _broadcast(weights=w.shape[:-1], shift=s.shape[:-1])
    return _shift(w, s)


def _sharpen(w: FloatArray, gamma_batch: FloatArray) -> FloatArray:
    """w^γ / Σ w^γ as softmax(γ (log w − max log w)); rows need a positive entry."""
    with np.errstate(divide="ignore"):
        log_w: FloatArray = np.log(w)  # log 0 = −inf: a masked position of the softmax
    log_w = log_w - np.max(log_w, axis=-1, keepdims=True)  # ≤ 0, the largest entry 0
    gamma = gamma_batch[..., None]
    with np.errstate(over="ignore"):
        # γ (log w̃(i) − max): ≤ 0; an overflow to −inf is weight 0, the correctly rounded limit.
        logits: FloatArray = (gamma * log_w).astype(w.dtype)  # γ log w̃(i); γ ≥ 1 keeps −inf
    sharpened = softmax(logits)
    return sharpened


def sharpen(weights: FloatArray, sharpening: ScalarOrArray) -> FloatArray:
    r"""Sharpened weights w(i) = w̃(i)^γ / Σ_j w̃(j)^γ, computed as softmax(γ log w̃).

    Book: §8.5.2, sharpening (Graves et al. 2014, eq. 9).
    Shapes: weights (..., N), sharpening γ a float or (...,) -> (..., N).
    Assumptions: γ ≥ 1 and finite in the weights' dtype; weights non-negative
    with a positive sum in every row (else ``ValueError``); zero entries stay
    exactly 0. γ = 1 renormalises (identity on distributions); large γ (50,
    1e6, up to the dtype's maximum) concentrates on the maximal entries
    without overflow or 0/0, because the powers are taken in log space with
    the row maximum subtracted. N = 0 is a ``ValueError`` (no positive sum).
    Spec: ``spec.neural_turing_machine.sharpen``.
    """
    w = check.float_array(weights, "weights", min_ndim=1)
    if (w < 0).any():
        raise ValueError("weights must be non-negative to be sharpened")
    if w.shape[-1] == 0 or np.any(np.max(w, axis=-1, initial=0) <= 0):
        raise ValueError("weights must have a positive entry in every row to be sharpened")
    gamma = _head_scalar(
        sharpening,
        "sharpening",
        w.dtype,
        lower=1,
        expected="γ ≥ 1",
        batch=w.shape[:-1],
        against="weights",
    )
    return _sharpen(w, gamma)


@dataclass(frozen=True)
class AddressingStages:
    """The four weightings of one addressing step, each (..., N): w^c, w^g, w̃, w."""

    content: FloatArray
    gated: FloatArray
    shifted: FloatArray
    weights: FloatArray

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the addressing kernels, made read-only


def _stages(
    k: FloatArray,
    m: FloatArray,
    previous: FloatArray,
    beta: FloatArray,
    gate: FloatArray,
    s: FloatArray,
    gamma: FloatArray,
) -> AddressingStages:
    content = _content(k, m, beta)
    gated = _interpolate(content, previous, gate)
    shifted = _shift(gated, s)
    return AddressingStages(content, gated, shifted, _sharpen(shifted, gamma))


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
    Assumptions: as the four stage functions; every argument is checked once
    here, then the stages run unchecked.
    Spec: ``spec.neural_turing_machine`` (one function per stage).
    """
    m = _memory(memory)
    k = _key(key, m)
    previous = _distribution(previous_weights, "previous_weights", m.dtype, size=m.shape[-2])
    s = _distribution(shift, "shift", m.dtype, size=None)
    if s.shape[-1] % 2 != 1:
        raise ValueError(
            f"shift must have an odd length 2R + 1 (offsets −R..R), got {s.shape[-1]} entries"
        )
    batch = _broadcast(
        key=k.shape[:-1],
        memory=m.shape[:-2],
        previous_weights=previous.shape[:-1],
        shift=s.shape[:-1],
    )
    beta = _head_scalar(
        key_strength,
        "key_strength",
        m.dtype,
        lower=0,
        lower_open=True,
        expected="β > 0",
        batch=batch,
    )
    g = _head_scalar(gate, "gate", m.dtype, lower=0, upper=1, expected="0 ≤ g ≤ 1", batch=batch)
    gamma = _head_scalar(sharpening, "sharpening", m.dtype, lower=1, expected="γ ≥ 1", batch=batch)
    return _stages(k, m, previous, beta, g, s, gamma)


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

_READ_SAFE = "keep Σ_i |w(i)| · max |M(i)| below the dtype's maximum"
_WRITE_SAFE = "keep max |memory| + H · max |add| below the dtype's maximum"


def _read(m: FloatArray, w: FloatArray) -> FloatArray:
    with np.errstate(over="ignore", invalid="ignore"):
        result: FloatArray = (w[..., None, :] @ m)[..., 0, :]  # Σ_i w(i) M(i)
    return result


def read(memory: FloatArray, weights: FloatArray) -> FloatArray:
    r"""Read vector r = Σ_i w(i) M(i).

    Book: §8.5.2, reading (Graves et al. 2014, eq. 2).
    Shapes: memory (..., N, D), weights (..., N) -> (..., D).
    Assumptions: none on the weights beyond being finite (the read is linear
    in the memory and in the weights); the memory is not modified. A read
    that overflows the dtype (only possible for weights outside [0, 1] or
    entries near the dtype's maximum) is a ``ValueError`` naming both.
    Spec: ``spec.neural_turing_machine.read``.
    """
    m = _memory(memory)
    w = check.float_array(weights, "weights", min_ndim=1)
    check.same_dtype(memory=m, weights=w)
    if w.shape[-1] != m.shape[-2]:
        raise ValueError(f"weights has {w.shape[-1]} entries, memory has N = {m.shape[-2]} slots")
    check.batch_broadcast(memory=m, weights=w[..., None, :])
    return check.finite_result(_read(m, w), "memory and weights", _READ_SAFE)


def _write(m: FloatArray, w: FloatArray, e: FloatArray, a: FloatArray) -> FloatArray:
    """All erases, then all adds: w (..., H, N), e and a (..., H, D)."""
    w_nd = w[..., :, :, None]  # (..., H, N, 1)
    with np.errstate(over="ignore", invalid="ignore"):
        retain: FloatArray = np.prod(1 - w_nd * e[..., :, None, :], axis=-3)  # Π_h (1 − w_h(i) e_h)
        added: FloatArray = np.sum(w_nd * a[..., :, None, :], axis=-3)  # Σ_h w_h(i) a_h
        written: FloatArray = (m * retain + added).astype(m.dtype)
    return written


def write_heads(
    memory: FloatArray, weights: FloatArray, erase: FloatArray, add: FloatArray
) -> FloatArray:
    r"""Write with H heads: all erases, then all adds.

    M̃(i) = M(i) ∘ Π_h (1 − w_h(i) e_h),  M'(i) = M̃(i) + Σ_h w_h(i) a_h.

    Book: §8.5.2, m_{t+1,n} = m_{t,n} ∘ (1 − α_{t,n} e_t) + α_{t,n} a_t, with
    the paper's multi-head order (Graves et al. 2014, eqs. 3–4 and §3.2).
    Shapes: memory (..., N, D), weights (..., H, N), erase (..., H, D),
    add (..., H, D) -> (..., N, D). H = 0 heads leaves the memory unchanged.
    Assumptions: weights and erase in [0, 1] (else ``ValueError``); a slot with
    weight 0 in every head is unchanged; with one head, weight 1 and e = 1 the
    slot becomes a. A written memory beyond the dtype's range is a
    ``ValueError`` naming memory and add. The memory argument is not modified.
    Spec: ``spec.neural_turing_machine.write``.
    """
    m = _memory(memory)
    w = _unit_entries(weights, "weights", m.dtype)
    e = _unit_entries(erase, "erase", m.dtype)
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
    return check.finite_result(_write(m, w, e, a), "memory and add", _WRITE_SAFE)


def write(
    memory: FloatArray, weights: FloatArray, erase: FloatArray, add: FloatArray
) -> FloatArray:
    r"""Erase-then-add write M'(i) = M(i) ∘ (1 − w(i) e) + w(i) a with one head.

    Book: §8.5.2, m_{t+1,n} = m_{t,n} ∘ (1 − α_{t,n} e_t) + α_{t,n} a_t
    (Graves et al. 2014, eqs. 3–4).
    Shapes: memory (..., N, D), weights (..., N), erase (..., D), add (..., D)
    -> (..., N, D).
    Assumptions: weights and erase entries in [0, 1] (else ``ValueError``).
    Every slot changes in proportion to its weight; weight 0 leaves it
    unchanged, weight 1 with e = 1 replaces it by a. A written memory beyond
    the dtype's range is a ``ValueError``. The memory argument is not modified.
    Spec: ``spec.neural_turing_machine.write``.
    """
    m = _memory(memory)
    w = _unit_entries(weights, "weights", m.dtype)
    e = _unit_entries(erase, "erase", m.dtype)
    a = check.float_array(add, "add", min_ndim=1)
    check.same_dtype(memory=m, add=a)
    if w.shape[-1] != m.shape[-2]:
        raise ValueError(f"weights has {w.shape[-1]} entries, memory has N = {m.shape[-2]} slots")
    for name, vector in (("erase", e), ("add", a)):
        if vector.shape[-1] != m.shape[-1]:
            raise ValueError(
                f"{name} has {vector.shape[-1]} features, memory has width D = {m.shape[-1]}"
            )
    _broadcast(memory=m.shape[:-2], weights=w.shape[:-1], erase=e.shape[:-1], add=a.shape[:-1])
    written = _write(m, w[..., None, :], e[..., None, :], a[..., None, :])
    return check.finite_result(written, "memory and add", _WRITE_SAFE)


# --- a small feed-forward controller --------------------------------------------------------


@dataclass(frozen=True)
class HeadParameters:
    r"""The values one head emits at step t (each with batch axes (...)).

    key (..., D); key_strength β (...,) > 0; gate g (...,) in [0, 1]; shift
    (..., S), S odd, a distribution; sharpening γ (...,) ≥ 1; erase (..., D)
    in [0, 1]; add (..., D). All float arrays of one dtype, finite; the
    scalars β, g, γ may also be Python or NumPy scalars (checked in the key's
    dtype and stored as 0-d arrays).
    Checked when built (a ``ValueError``/``TypeError`` naming the field), and
    kept as read-only private copies: an in-place edit raises NumPy's
    "assignment destination is read-only"; ``dataclasses.replace`` checks the
    new values again. ``ntm_step`` then only checks that the head fits the
    memory (dtype, width D, batch axes).
    """

    key: FloatArray
    key_strength: FloatArray
    gate: FloatArray
    shift: FloatArray
    sharpening: FloatArray
    erase: FloatArray
    add: FloatArray

    def __post_init__(self) -> None:
        key = check.float_array(self.key, "key", min_ndim=1)
        dtype = key.dtype
        arrays = {"key": key}
        arrays["key_strength"] = _head_scalar(
            self.key_strength,
            "key_strength",
            dtype,
            lower=0,
            lower_open=True,
            expected="β > 0",
            against="key",
        )
        arrays["gate"] = _head_scalar(
            self.gate, "gate", dtype, lower=0, upper=1, expected="0 ≤ g ≤ 1", against="key"
        )
        arrays["sharpening"] = _head_scalar(
            self.sharpening, "sharpening", dtype, lower=1, expected="γ ≥ 1", against="key"
        )
        shift = _distribution(self.shift, "shift", dtype, size=None, against="key")
        if shift.shape[-1] % 2 != 1:
            raise ValueError(
                f"shift must have an odd length 2R + 1 (offsets −R..R), got {shift.shape[-1]}"
            )
        arrays["shift"] = shift
        arrays["erase"] = _unit_entries(self.erase, "erase", dtype, against="key")
        arrays["add"] = check.float_array(self.add, "add", min_ndim=1)
        check.same_dtype(key=key, add=arrays["add"])
        for name in ("erase", "add"):
            if arrays[name].shape[-1] != key.shape[-1]:
                raise ValueError(
                    f"{name} has {arrays[name].shape[-1]} features, key has {key.shape[-1]}"
                )
        _broadcast(
            key=key.shape[:-1],
            key_strength=arrays["key_strength"].shape,
            gate=arrays["gate"].shape,
            shift=shift.shape[:-1],
            sharpening=arrays["sharpening"].shape,
            erase=arrays["erase"].shape[:-1],
            add=arrays["add"].shape[:-1],
        )
        for name, array in arrays.items():
            object.__setattr__(self, name, check.frozen(array))

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The broadcast batch axes (...) of all fields."""
        return np.broadcast_shapes(
            self.key.shape[:-1],
            self.key_strength.shape,
            self.gate.shape,
            self.shift.shape[:-1],
            self.sharpening.shape,
            self.erase.shape[:-1],
            self.add.shape[:-1],
        )


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
    Checked when built; W and b are kept as read-only private copies (an
    in-place edit raises; ``dataclasses.replace`` checks again).
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
        d = check.size(self.memory_width, "memory_width")
        radius = check.size(self.shift_radius, "shift_radius", low=0)
        expected = 3 * d + 3 + 2 * radius + 1
        if W.ndim != 2 or b.shape != (W.shape[0],) or W.shape[0] != expected:
            raise ValueError(
                f"W must be (P, n) and b (P,) with P = 3·memory_width + 3 + (2·shift_radius + 1) "
                f"= {expected}, got W {W.shape}, b {b.shape}"
            )
        if W.shape[1] == 0:
            raise ValueError("W must have n ≥ 1 input columns, got shape (P, 0)")
        object.__setattr__(self, "W", check.frozen(W))
        object.__setattr__(self, "b", check.frozen(b))
        object.__setattr__(self, "memory_width", d)
        object.__setattr__(self, "shift_radius", radius)

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
        """Draw W uniformly in ±1/√n and b = 0 from ``rng``.

        Sizes whose W would exceed ``impl._validation.ALLOCATION_LIMIT_BYTES``
        are a ``ValueError``.
        """
        gen = check.generator(rng)
        n = check.size(input_size, "input_size", high=2**40)
        d = check.size(memory_width, "memory_width")
        radius = check.size(shift_radius, "shift_radius", low=0)
        chosen = check.float_dtype(dtype)
        rows = 3 * d + 3 + 2 * radius + 1
        check.allocation(rows * n, chosen, "input_size", "a weight matrix W")
        bound = 1.0 / math.sqrt(n)
        W = gen.uniform(-bound, bound, size=(rows, n)).astype(chosen)
        return cls(W=W, b=np.zeros(rows, dtype=chosen), memory_width=d, shift_radius=radius)

    def heads(self, x: FloatArray) -> HeadParameters:
        r"""One head's parameters from the controller input: activations of z = W x + b.

        Book: §8.5.2 (the controller emits k_t, β_t, g_t, s_t, γ_t, e_t, a_t).
        Shapes: x (..., n) -> ``HeadParameters`` with batch axes (...); see the
        class docstring for the layout of z and the activations.
        An x so large that z = W x + b overflows is a ``ValueError`` naming x.
        """
        inputs = check.float_array(x, "x", min_ndim=1)
        check.same_dtype(x=inputs, W=self.W)
        if inputs.shape[-1] != self.W.shape[1]:
            raise ValueError(f"x has {inputs.shape[-1]} features, W expects {self.W.shape[1]}")
        with np.errstate(over="ignore", invalid="ignore"):
            z: FloatArray = inputs @ self.W.T + self.b
        check.finite_result(z, "x", "keep |W x + b| below the dtype's maximum")
        d, s = self.memory_width, 2 * self.shift_radius + 1
        cuts = np.cumsum([d, 1, 1, s, 1, d])
        k, beta, g, shift, gamma, e, a = np.split(z, cuts, axis=-1)
        return HeadParameters(
            key=np.tanh(k),
            key_strength=num.softplus(beta[..., 0]) + np.asarray(np.finfo(z.dtype).tiny, z.dtype),
            gate=num.sigmoid(g[..., 0]),
            shift=softmax(shift),
            sharpening=(1 + num.softplus(gamma[..., 0])).astype(z.dtype),
            erase=num.sigmoid(e),
            add=np.tanh(a),
        )


@dataclass(frozen=True)
class StepResult:
    """One NTM step: the read vector (..., D), the new read/write weights (..., N), new memory."""

    read_vector: FloatArray
    read_weights: FloatArray
    write_weights: FloatArray
    memory: FloatArray

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the step's kernels, made read-only


def _head_fits(head: HeadParameters, name: str, m: FloatArray) -> None:
    if head.key.dtype != m.dtype:
        raise TypeError(f"{name} has dtype {head.key.dtype}, memory has {m.dtype}")
    if head.key.shape[-1] != m.shape[-1]:
        raise ValueError(
            f"{name}.key has {head.key.shape[-1]} features, memory has width D = {m.shape[-1]}"
        )


def _head_weights(head: HeadParameters, m: FloatArray, previous: FloatArray) -> FloatArray:
    return _stages(
        head.key,
        m,
        previous,
        head.key_strength,
        head.gate,
        head.shift,
        head.sharpening,
    ).weights


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
    Checks: the memory once (finite, N ≥ 1, D ≥ 1), the previous weights as
    distributions over the N slots, and that each head (already checked when
    built) fits the memory; then both addressings, the read and the write run
    as unchecked kernels. A written memory beyond the dtype's range is a
    ``ValueError`` naming memory and write_head.add.
    """
    m = _memory(memory)
    check.instance(read_head, HeadParameters, "read_head")
    check.instance(write_head, HeadParameters, "write_head")
    _head_fits(read_head, "read_head", m)
    _head_fits(write_head, "write_head", m)
    n = m.shape[-2]
    previous_r = _distribution(previous_read_weights, "previous_read_weights", m.dtype, size=n)
    previous_w = _distribution(previous_write_weights, "previous_write_weights", m.dtype, size=n)
    _broadcast(
        memory=m.shape[:-2],
        previous_read_weights=previous_r.shape[:-1],
        previous_write_weights=previous_w.shape[:-1],
        read_head=read_head.batch_shape,
        write_head=write_head.batch_shape,
    )
    read_weights = _head_weights(read_head, m, previous_r)
    write_weights = _head_weights(write_head, m, previous_w)
    read_vector = _read(m, read_weights)  # a convex combination of rows: finite
    new_memory = _write(
        m, write_weights[..., None, :], write_head.erase[..., None, :], write_head.add[..., None, :]
    )
    check.finite_result(new_memory, "memory and write_head.add", _WRITE_SAFE)
    return StepResult(read_vector, read_weights, write_weights, new_memory)
