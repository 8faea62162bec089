"""Pointer network: an LSTM encoder-decoder whose outputs are indices into its input.

Book: §8.2.1, pointer network (Vinyals, Fortunato & Jaitly 2015):

    p(c_{1:M} | x_{1:N}) = Π_m p(c_m | c_{1:m−1}, x_{1:N}),
    p(c_m | c_{1:m−1}, x_{1:N}) = softmax_n(s_{m,n}),
    s_{m,n} = vᵀ tanh(W e_n + U h_m).

No spec twin: the properties (a probability distribution over output
sequences, the chain rule, decoding) are checked by enumeration in
``tests/test_pointer_network.py``.

Conventions shared by every function here:

* **Indices are 0-based**: the book's c_m ∈ [1, N] is our c_m ∈ [0, N − 1].
* **Shapes.** inputs (..., N, n): row k is the book's column x_{k+1}.
  Output index sequences are integer arrays (..., M). Leading axes are batch
  axes; ``greedy_decode``, ``sequence_log_probability`` and
  ``pointer_step_log_probs`` are batched, ``beam_search_decode`` works on one
  example (inputs (N, n)) because its beams are data dependent.
* **Encoder**: ``impl.recurrent.lstm_sequence`` over x_1..x_N gives the
  encoder states e_1..e_N (..., N, m) and its final state (h_N, c_N).
* **Decoder**: an LSTM started from the encoder's final state, fed
  x_{c_{m−1}} at step m; at m = 1 it is fed a learned vector ``start`` (n,)
  (Vinyals et al. use a learned "go" symbol, ⇒ in their figures).
* **Scores** are ``impl.scores.additive_score`` with the decoder state h_m as
  the query and the encoder states e_n as the keys; the distribution is
  ``impl.softmax.log_softmax`` over n.
  Note: the book writes s_{m,n} = vᵀ tanh(W x_n + U h_m), scoring the raw
  inputs x_n; Vinyals et al. (eq. 3, u^i_j = vᵀ tanh(W_1 e_j + W_2 d_i)) and
  this module score the encoder states e_n, which carry each input's context.
* **mask_chosen=True** forbids indices already chosen (so with M = N the
  output is a permutation). M > N is then impossible — every index would be
  masked at step N + 1 — and raises ``ValueError``. A given sequence that
  repeats an index has probability 0 (log-probability −inf) under the mask.
* M = 0 is allowed: the empty sequence has probability 1 (log 0.0).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from impl import _validation as check
from impl._typing import BoolArray, FloatArray, IntArray
from impl.recurrent import LSTMParameters, lstm_cell, lstm_sequence
from impl.scores import AdditiveScoreParameters, additive_score
from impl.softmax import log_softmax

DecoderState = tuple[FloatArray, FloatArray]
"""An LSTM state (h, c), each (..., m)."""


@dataclass(frozen=True)
class PointerNetworkParameters:
    r"""Encoder LSTM, decoder LSTM, additive pointer score and the start vector.

    Shapes: ``encoder`` and ``decoder`` are LSTMs with input size n and the
    same hidden size m (the decoder starts from the encoder's final state);
    ``attention`` has W (D_a, m) acting on the encoder states e_n, U (D_a, m)
    on the decoder state h_m and v (D_a,); ``start`` (n,) is the decoder's
    first input. All arrays share one dtype.
    """

    encoder: LSTMParameters
    decoder: LSTMParameters
    attention: AdditiveScoreParameters
    start: FloatArray

    def __post_init__(self) -> None:
        for name in ("encoder", "decoder"):
            if not isinstance(getattr(self, name), LSTMParameters):
                raise TypeError(f"{name} must be LSTMParameters")
        if not isinstance(self.attention, AdditiveScoreParameters):
            raise TypeError("attention must be AdditiveScoreParameters")
        start = check.float_array(self.start, "start", min_ndim=1)
        n, m = self.encoder.input_size, self.encoder.hidden_size
        if (self.decoder.input_size, self.decoder.hidden_size) != (n, m):
            raise ValueError(
                f"decoder has (n, m) = ({self.decoder.input_size}, {self.decoder.hidden_size}), "
                f"encoder has ({n}, {m}); they must agree"
            )
        if start.shape != (n,):
            raise ValueError(f"start must have shape ({n},), got {start.shape}")
        if self.attention.W.shape[1] != m or self.attention.U.shape[1] != m:
            raise ValueError(
                f"attention W and U must have m = {m} columns, got W {self.attention.W.shape}, "
                f"U {self.attention.U.shape}"
            )
        dtypes = {self.encoder.dtype, self.decoder.dtype, self.attention.W.dtype, start.dtype}
        if len(dtypes) > 1:
            raise TypeError(f"all parameters must share one dtype, got {sorted(map(str, dtypes))}")

    @property
    def input_size(self) -> int:
        """n, the width of each input x_k."""
        return self.encoder.input_size

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype shared by all arrays."""
        return self.encoder.dtype

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        input_size: int,
        hidden_size: int,
        attention_size: int,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "PointerNetworkParameters":
        """Draw all parameters from ``rng`` (LSTMs ±1/√m, attention Glorot-style, start ±1/√n)."""
        gen = check.generator(rng)
        n = check.positive_int(input_size, "input_size")

        def lstm() -> LSTMParameters:
            return LSTMParameters.initialize(
                gen, input_size=n, hidden_size=hidden_size, dtype=dtype
            )

        encoder, decoder = lstm(), lstm()
        attention = AdditiveScoreParameters.initialize(
            gen, key_dim=hidden_size, query_dim=hidden_size, hidden_dim=attention_size, dtype=dtype
        )
        bound = 1.0 / math.sqrt(n)
        start = gen.uniform(-bound, bound, size=(n,)).astype(dtype)
        return cls(encoder=encoder, decoder=decoder, attention=attention, start=start)


@dataclass(frozen=True)
class DecodedSequence:
    """A decoded index sequence and its log-probability.

    ``indices`` (..., M) intp, 0-based; ``log_probability`` (...) in the
    inputs' dtype: log p(c_{1:M} | x_{1:N}) = Σ_m log p(c_m | c_{1:m−1}, x).
    """

    indices: IntArray
    log_probability: FloatArray


# --------------------------------------------------------------------------- validation


def _checked_inputs(inputs: object, params: object) -> FloatArray:
    if not isinstance(params, PointerNetworkParameters):
        raise TypeError(f"params must be PointerNetworkParameters, got {type(params).__name__}")
    x = check.float_array(inputs, "inputs", min_ndim=2)
    if x.dtype != params.dtype:
        raise TypeError(f"inputs has dtype {x.dtype}, the parameters have {params.dtype}")
    if x.shape[-1] != params.input_size:
        raise ValueError(
            f"inputs has {x.shape[-1]} features, the network expects n = {params.input_size}"
        )
    if x.shape[-2] == 0:
        raise ValueError("inputs must hold at least one position (N ≥ 1), got N = 0")
    return x


def _output_length(
    value: object, length: int, mask_chosen: bool, name: str = "output_length"
) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be ≥ 0, got {value}")
    if mask_chosen and value > length:
        raise ValueError(
            f"{name} M = {value} exceeds the N = {length} inputs: with mask_chosen=True every "
            f"index is masked at step {length + 1}"
        )
    return int(value)


def _checked_indices(indices: object, name: str, length: int) -> IntArray:
    if not isinstance(indices, np.ndarray):
        raise TypeError(f"{name} must be a numpy integer array, got {type(indices).__name__}")
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{name} must have an integer dtype, got {indices.dtype}")
    if indices.ndim < 1:
        raise ValueError(f"{name} must have at least 1 axis (..., M), got shape {indices.shape}")
    if indices.size and (indices.min() < 0 or indices.max() >= length):
        raise ValueError(
            f"{name} must lie in [0, {length - 1}] (0-based indices into N = {length} inputs), "
            f"got values in [{indices.min()}, {indices.max()}]"
        )
    converted: IntArray = indices.astype(np.intp)
    return converted


def _broadcast_batch(x: FloatArray, indices: IntArray, name: str) -> tuple[FloatArray, IntArray]:
    try:
        batch = np.broadcast_shapes(x.shape[:-2], indices.shape[:-1])
    except ValueError:
        raise ValueError(
            f"batch axes of inputs {x.shape[:-2]} and {name} {indices.shape[:-1]} do not broadcast"
        ) from None
    return (
        np.broadcast_to(x, (*batch, *x.shape[-2:])),
        np.broadcast_to(indices, (*batch, indices.shape[-1])),
    )


# --------------------------------------------------------------------------- model


def encode(inputs: FloatArray, params: PointerNetworkParameters) -> tuple[FloatArray, DecoderState]:
    r"""The encoder states e_1..e_N and the encoder's final state (h_N, c_N).

    Book: §8.2.1 (the encoder RNN over x_1..x_N); the decoder starts from (h_N, c_N).
    Shapes: inputs (..., N, n) -> e (..., N, m), (h_N, c_N) each (..., m).
    """
    x = _checked_inputs(inputs, params)
    return lstm_sequence(x, params.encoder)


def _gather_rows(x: FloatArray, index: IntArray) -> FloatArray:
    """x[..., index[...], :] for x (..., N, n), index (...) -> (..., n)."""
    rows: FloatArray = np.take_along_axis(x, index[..., None, None], axis=-2)[..., 0, :]
    return rows


def _decoder_step(
    encoder_states: FloatArray,
    state: DecoderState,
    decoder_input: FloatArray,
    available: BoolArray | None,
    params: PointerNetworkParameters,
) -> tuple[FloatArray, DecoderState]:
    """One decoder step: log p(c_m = · | c_{1:m−1}, x) (..., N) and the new state (h_m, c_m)."""
    h, c = lstm_cell(decoder_input, state, params.decoder)  # h_m from x_{c_{m−1}} and h_{m−1}
    # Note: the book writes s_{m,n} = vᵀ tanh(W x_n + U h_m); Vinyals et al.
    # (and we) score the ENCODER STATES e_n, which carry the context of x_n.
    scores = additive_score(h[..., None, :], encoder_states, params.attention)[..., 0, :]
    log_probs = log_softmax(scores, available)
    return log_probs, (h, c)


def _start_input(params: PointerNetworkParameters, batch: tuple[int, ...]) -> FloatArray:
    first: FloatArray = np.broadcast_to(params.start, (*batch, params.input_size))
    return first


def _teacher_forced_log_probs(
    x: FloatArray,
    indices: IntArray,
    params: PointerNetworkParameters,
    mask_chosen: bool,
    steps: int,
) -> list[FloatArray]:
    """Rows log p(c_{k+1} = · | c_{1:k}, x) for k = 0..steps−1, feeding the given indices."""
    encoder_states, state = lstm_sequence(x, params.encoder)
    batch, length = x.shape[:-2], x.shape[-2]
    decoder_input = _start_input(params, batch)
    available: BoolArray = np.ones((*batch, length), dtype=np.bool_)
    positions = np.arange(length)
    rows: list[FloatArray] = []
    for k in range(steps):
        log_probs, state = _decoder_step(
            encoder_states, state, decoder_input, available if mask_chosen else None, params
        )
        rows.append(log_probs)
        if k < indices.shape[-1]:
            chosen = indices[..., k]
            if mask_chosen:
                available = available & (positions != chosen[..., None])
            decoder_input = _gather_rows(x, chosen)
    return rows


def pointer_step_log_probs(
    inputs: FloatArray,
    previous_indices: IntArray,
    params: PointerNetworkParameters,
    *,
    mask_chosen: bool = False,
) -> FloatArray:
    r"""log p(c_{k+1} = n | c_{1:k}, x_{1:N}) for every n: one step of the chain rule.

    Book: §8.2.1, p(c_m | c_{1:m−1}, x_{1:N}) = softmax_n(s_{m,n}) with m = k + 1.
    Shapes: inputs (..., N, n), previous_indices (..., k) integer (k = 0 for
    the first step; batch axes broadcast) -> (..., N) log-probabilities in the
    inputs' dtype. With ``mask_chosen`` the previously chosen indices get −inf;
    k ≥ N is then a ``ValueError`` (nothing left to choose).
    """
    x = _checked_inputs(inputs, params)
    length = x.shape[-2]
    prefix = _checked_indices(previous_indices, "previous_indices", length)
    _output_length(prefix.shape[-1] + 1, length, mask_chosen, "len(previous_indices) + 1")
    x, prefix = _broadcast_batch(x, prefix, "previous_indices")
    rows = _teacher_forced_log_probs(x, prefix, params, mask_chosen, prefix.shape[-1] + 1)
    return rows[-1]


def sequence_log_probability(
    inputs: FloatArray,
    output_indices: IntArray,
    params: PointerNetworkParameters,
    *,
    mask_chosen: bool = False,
) -> FloatArray:
    r"""log p(c_{1:M} | x_{1:N}) by the chain rule: Σ_m log p(c_m | c_{1:m−1}, x_{1:N}).

    Book: §8.2.1, p(c_{1:M} | x_{1:N}) = Π_m p(c_m | c_{1:m−1}, x_{1:N}).
    Shapes: inputs (..., N, n), output_indices (..., M) integer in [0, N)
    (batch axes broadcast) -> (...) in the inputs' dtype. M = 0 gives 0.
    With ``mask_chosen`` a sequence repeating an index gives −inf, and M > N
    is a ``ValueError``.
    """
    x = _checked_inputs(inputs, params)
    indices = _checked_indices(output_indices, "output_indices", x.shape[-2])
    steps = _output_length(indices.shape[-1], x.shape[-2], mask_chosen)
    x, indices = _broadcast_batch(x, indices, "output_indices")
    total: FloatArray = np.zeros(x.shape[:-2], dtype=x.dtype)
    for k, row in enumerate(_teacher_forced_log_probs(x, indices, params, mask_chosen, steps)):
        chosen: FloatArray = np.take_along_axis(row, indices[..., k : k + 1], axis=-1)[..., 0]
        total = total + chosen
    result: FloatArray = np.asarray(total)  # a 0-d array, not a NumPy scalar, when unbatched
    return result


def greedy_decode(
    inputs: FloatArray,
    params: PointerNetworkParameters,
    output_length: int,
    *,
    mask_chosen: bool = False,
) -> DecodedSequence:
    r"""Greedy decoding: c_m = argmax_n p(c_m = n | c_{1:m−1}, x_{1:N}) for m = 1..M.

    Book: §8.2.1 (decoding is greedy or beam search).
    Shapes: inputs (..., N, n) -> indices (..., M) intp, log_probability (...).
    Ties go to the lowest index.
    """
    x = _checked_inputs(inputs, params)
    batch, length = x.shape[:-2], x.shape[-2]
    steps = _output_length(output_length, length, mask_chosen)
    encoder_states, state = lstm_sequence(x, params.encoder)
    decoder_input = _start_input(params, batch)
    available: BoolArray = np.ones((*batch, length), dtype=np.bool_)
    positions = np.arange(length)
    total: FloatArray = np.zeros(batch, dtype=x.dtype)
    chosen_indices: list[IntArray] = []
    for _ in range(steps):
        log_probs, state = _decoder_step(
            encoder_states, state, decoder_input, available if mask_chosen else None, params
        )
        # Note: we take the argmax of the accumulated log-probability total + log p(c_m = n);
        # it is the argmax of log p(c_m = n) in exact arithmetic, and it makes greedy
        # decoding agree bit for bit with beam search of width 1 even when rounding
        # merges two nearly tied candidates.
        candidates: FloatArray = total[..., None] + log_probs
        chosen: IntArray = np.argmax(candidates, axis=-1).astype(np.intp)
        total = np.take_along_axis(candidates, chosen[..., None], axis=-1)[..., 0]
        chosen_indices.append(chosen)
        if mask_chosen:
            available = available & (positions != chosen[..., None])
        decoder_input = _gather_rows(x, chosen)
    indices: IntArray = (
        np.stack(chosen_indices, axis=-1) if steps else np.zeros((*batch, 0), dtype=np.intp)
    )
    return DecodedSequence(indices=indices, log_probability=total)


# --------------------------------------------------------------------------- beam search


NextLogProbs = Callable[[tuple[int, ...]], FloatArray]
"""``next_log_probs(prefix) -> (K,)``: log p(next index = k | prefix); −inf = impossible."""


def beam_search(
    next_log_probs: NextLogProbs, *, output_length: int, beam_width: int
) -> tuple[DecodedSequence, ...]:
    r"""Beam search over sequences of M choices among K, for any next-step distribution.

    Book: §8.2.1 (decoding by beam search); used by ``beam_search_decode``.
    Shapes: ``next_log_probs(prefix)`` returns (K,) log-probabilities of the
    next choice (−inf = impossible); the result's indices are (M,) intp.
    M = 0 returns the empty sequence with log-probability 0 (float64).
    Keeps the ``beam_width`` most probable prefixes after each step (ties:
    earlier beam, then lower index) and returns up to ``beam_width`` complete
    sequences, most probable first, each with indices (M,) and its summed
    log-probability (0-d). Candidates of probability 0 (−inf) are never kept;
    a step with none left is a ``ValueError``.

    Note (a known limitation of beam search, checked in the tests): for
    M ≥ 3 the best beam can be LESS probable than the greedy sequence, because
    the greedy prefix can be pruned by prefixes that later lose. For M ≤ 2 (and
    for beam_width ≥ K^{M−1}, which prunes nothing) it is never less probable.
    """
    steps = _output_length(output_length, 0, False)
    width = check.positive_int(beam_width, "beam_width")
    # A beam is (prefix, summed log-probability); the empty prefix has no sum yet
    # (its dtype is that of the first row returned by next_log_probs).
    beams: list[tuple[tuple[int, ...], FloatArray | None]] = [((), None)]
    for step in range(steps):
        rows = [np.asarray(next_log_probs(prefix)) for prefix, _ in beams]
        choices = rows[0].shape[-1]
        if any(r.ndim != 1 or r.shape != (choices,) for r in rows):
            raise ValueError(f"next_log_probs must return a vector of {choices} entries every time")
        totals: FloatArray = np.stack(
            [
                row if total is None else total + row
                for (_, total), row in zip(beams, rows, strict=True)
            ]
        )
        flat: FloatArray = totals.ravel()
        order = np.argsort(-flat, kind="stable")[:width]  # most probable first; ties keep order
        kept = [int(j) for j in order if np.isfinite(flat[j])]
        if not kept:
            raise ValueError(f"every continuation has probability 0 at step {step + 1}")
        beams = [(beams[j // choices][0] + (j % choices,), flat[j]) for j in kept]
    return tuple(
        DecodedSequence(
            np.asarray(prefix, dtype=np.intp),
            np.zeros((), dtype=np.float64) if total is None else np.asarray(total),
        )
        for prefix, total in beams
    )


def beam_search_decode(
    inputs: FloatArray,
    params: PointerNetworkParameters,
    output_length: int,
    *,
    beam_width: int,
    mask_chosen: bool = False,
) -> tuple[DecodedSequence, ...]:
    r"""Beam-search decoding of one example: up to ``beam_width`` sequences, best first.

    Book: §8.2.1 (decoding is greedy or beam search).
    Shapes: inputs (N, n) (one example; beams are data dependent, so batch by
    looping) -> a tuple of DecodedSequence with indices (M,) and a 0-d
    log_probability in the inputs' dtype. Width 1 is greedy decoding.
    The decoder state of each prefix is cached, so each step costs one LSTM
    step per beam.
    """
    x = _checked_inputs(inputs, params)
    if x.ndim != 2:
        raise ValueError(
            f"beam_search_decode takes one example, inputs (N, n); got shape {x.shape}"
        )
    length = x.shape[0]
    steps = _output_length(output_length, length, mask_chosen)
    width = check.positive_int(beam_width, "beam_width")
    encoder_states, final_state = lstm_sequence(x, params.encoder)
    cache: dict[tuple[int, ...], tuple[FloatArray, DecoderState]] = {}

    def next_log_probs(prefix: tuple[int, ...]) -> FloatArray:
        if prefix not in cache:
            if prefix:
                next_log_probs(prefix[:-1])  # makes sure the parent's state is cached
                state, decoder_input = cache[prefix[:-1]][1], x[prefix[-1]]
            else:
                state, decoder_input = final_state, params.start
            available: BoolArray | None = None
            if mask_chosen:
                available = np.ones(length, dtype=np.bool_)
                available[list(prefix)] = False
            cache[prefix] = _decoder_step(encoder_states, state, decoder_input, available, params)
        return cache[prefix][0]

    if steps == 0:
        return (DecodedSequence(np.zeros(0, dtype=np.intp), np.zeros((), dtype=x.dtype)),)
    return beam_search(next_log_probs, output_length=steps, beam_width=width)
