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
* **Checked once.** Public functions check and name their arguments, then run
  the kernels (``impl.recurrent._lstm_run``/``_lstm_step``,
  ``impl.scores._additive``, ``impl._numerics.log_softmax``). Other zero-size
  axes (N = 0, n = 0, a batch of 0) are a ValueError naming ``inputs``.
  ``output_length`` ≤ ``POINTER_STEP_LIMIT`` and ``beam_width`` ≤
  ``BEAM_WIDTH_LIMIT`` (larger would run for minutes): ValueErrors stating the
  limit. Indices must be integer arrays (floats are a TypeError, never
  rounded). Finite inputs of any size either give finite log-probabilities
  (the LSTMs and the tanh of the score saturate) or a ValueError naming
  ``inputs`` and ``params`` when an intermediate overflows.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from impl import _numerics as kernels
from impl import _validation as check
from impl._typing import BoolArray, FloatArray, IntArray, IntScalar
from impl.recurrent import LSTMParameters, _lstm_run, _lstm_step
from impl.scores import AdditiveScoreParameters, _additive, _ScoreOverflowError

POINTER_STEP_LIMIT = 10**5
"""The longest output (decoder steps) a call runs; more would take minutes."""

BEAM_WIDTH_LIMIT = 10**4
"""The widest beam ``beam_search`` keeps; wider would run for minutes per step."""

DecoderState = tuple[FloatArray, FloatArray]
"""An LSTM state (h, c), each (..., m)."""


@dataclass(frozen=True)
class PointerNetworkParameters:
    r"""Encoder LSTM, decoder LSTM, additive pointer score and the start vector.

    Shapes: ``encoder`` and ``decoder`` are LSTMs with input size n and the
    same hidden size m (the decoder starts from the encoder's final state);
    ``attention`` has W (D_a, m) acting on the encoder states e_n, U (D_a, m)
    on the decoder state h_m and v (D_a,); ``start`` (n,) is the decoder's
    first input. All arrays share one dtype. The container (and the ones it
    holds) keep read-only private copies; ``dataclasses.replace`` re-checks.
    """

    encoder: LSTMParameters
    decoder: LSTMParameters
    attention: AdditiveScoreParameters
    start: FloatArray

    def __post_init__(self) -> None:
        for name in ("encoder", "decoder"):
            check.instance(getattr(self, name), LSTMParameters, name)
        check.instance(self.attention, AdditiveScoreParameters, "attention")
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
        dtypes = {
            "encoder": self.encoder.dtype,
            "decoder": self.decoder.dtype,
            "attention": self.attention.W.dtype,
            "start": start.dtype,
        }
        if len(set(dtypes.values())) > 1:
            listing = ", ".join(f"{name} {dtype}" for name, dtype in dtypes.items())
            raise TypeError(f"all parameters must share one dtype, got {listing}")
        check.frozen_fields(self, start=start)

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
        input_size: IntScalar,
        hidden_size: IntScalar,
        attention_size: IntScalar,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "PointerNetworkParameters":
        """Draw all parameters from ``rng`` (LSTMs ±1/√m, attention Glorot-style, start ±1/√n)."""
        gen = check.generator(rng)
        n = check.positive_int(input_size, "input_size")
        m = check.positive_int(hidden_size, "hidden_size")
        a = check.positive_int(attention_size, "attention_size")
        chosen = check.float_dtype(dtype)
        check.allocation(8 * m * (n + m + 1), chosen, "input_size and hidden_size", "the LSTMs")
        check.allocation(a * (2 * m + 1), chosen, "hidden_size and attention_size", "the score")

        def lstm() -> LSTMParameters:
            return LSTMParameters.initialize(gen, input_size=n, hidden_size=m, dtype=chosen.type)

        encoder, decoder = lstm(), lstm()
        attention = AdditiveScoreParameters.initialize(
            gen, key_dim=m, query_dim=m, hidden_dim=a, dtype=chosen.type
        )
        bound = 1.0 / math.sqrt(n)
        start = gen.uniform(-bound, bound, size=(n,)).astype(chosen)
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


def _checked_inputs(inputs: object, params: object) -> tuple[FloatArray, PointerNetworkParameters]:
    p = check.instance(params, PointerNetworkParameters, "params")
    x = check.float_array(inputs, "inputs", min_ndim=2)
    if x.dtype != p.dtype:
        raise TypeError(f"inputs has dtype {x.dtype}, the parameters have {p.dtype}")
    if x.shape[-1] != p.input_size:
        raise ValueError(
            f"inputs has {x.shape[-1]} features, the network expects n = {p.input_size}"
        )
    if x.shape[-2] == 0:
        raise ValueError("inputs must hold at least one position (N ≥ 1), got N = 0")
    if x.size == 0:
        raise ValueError(f"inputs must not have a zero-size batch axis, got shape {x.shape}")
    return x, p


def _output_length(
    value: object, length: int, mask_chosen: bool, name: str = "output_length"
) -> int:
    steps = check.size(
        value, name, low=0, high=POINTER_STEP_LIMIT, reason="POINTER_STEP_LIMIT: minutes of steps"
    )
    if mask_chosen and steps > length:
        raise ValueError(
            f"{name} M = {steps} exceeds the N = {length} inputs: with mask_chosen=True every "
            f"index is masked at step {length + 1}"
        )
    return steps


def _checked_indices(indices: object, name: str, length: int) -> IntArray:
    return check.index_array(indices, name, length, min_ndim=1)


def _broadcast_batch(x: FloatArray, indices: IntArray, name: str) -> tuple[FloatArray, IntArray]:
    try:
        batch = np.broadcast_shapes(x.shape[:-2], indices.shape[:-1])
    except ValueError:
        raise ValueError(
            f"batch axes of inputs {x.shape[:-2]} and {name} {indices.shape[:-1]} do not broadcast"
        ) from None
    if math.prod(batch) == 0:
        raise ValueError(f"{name} must not have a zero-size batch axis, got {indices.shape}")
    return (
        np.broadcast_to(x, (*batch, *x.shape[-2:])),
        np.broadcast_to(indices, (*batch, indices.shape[-1])),
    )


class _PointerOverflowError(Exception):
    """An intermediate overflowed (NaN in the log-probabilities); re-raised naming arguments."""


def _overflowed() -> ValueError:
    return ValueError(
        "inputs and params are too large: an intermediate of the encoder, decoder or pointer "
        "score overflowed the dtype (inf − inf in a pre-activation); scale the inputs down"
    )


# --------------------------------------------------------------------------- model


def encode(inputs: FloatArray, params: PointerNetworkParameters) -> tuple[FloatArray, DecoderState]:
    r"""The encoder states e_1..e_N and the encoder's final state (h_N, c_N).

    Book: §8.2.1 (the encoder RNN over x_1..x_N); the decoder starts from (h_N, c_N).
    Shapes: inputs (..., N, n) -> e (..., N, m), (h_N, c_N) each (..., m).
    """
    x, p = _checked_inputs(inputs, params)
    states, (h, c) = _encode(x, p)
    if not (np.isfinite(states).all() and np.isfinite(c).all()):
        raise _overflowed()
    return states, (h, c)


def _encode(x: FloatArray, params: PointerNetworkParameters) -> tuple[FloatArray, DecoderState]:
    zeros = np.zeros((*x.shape[:-2], params.encoder.hidden_size), dtype=x.dtype)
    return _lstm_run(x, zeros, zeros, params.encoder)


def _decoder_step(
    encoder_states: FloatArray,
    state: DecoderState,
    decoder_input: FloatArray,
    available: BoolArray | None,
    params: PointerNetworkParameters,
) -> tuple[FloatArray, DecoderState]:
    """One decoder step: log p(c_m = · | c_{1:m−1}, x) (..., N) and the new state (h_m, c_m)."""
    h, c = _lstm_step(decoder_input, state[0], state[1], params.decoder)  # h_m from x_{c_{m−1}}
    # Note: the book writes s_{m,n} = vᵀ tanh(W x_n + U h_m); Vinyals et al.
    # (and we) score the ENCODER STATES e_n, which carry the context of x_n.
    a = params.attention
    try:
        scores = _additive(h[..., None, :], encoder_states, a.W, a.U, a.v)[..., 0, :]
    except _ScoreOverflowError:
        raise _PointerOverflowError from None
    if np.isnan(scores).any():
        raise _PointerOverflowError
    log_probs = kernels.log_softmax(scores, available)
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
    encoder_states, state = _encode(x, params)
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
            decoder_input = kernels.gather_row(x, chosen)
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
    x, p = _checked_inputs(inputs, params)
    chosen_mask = check.boolean(mask_chosen, "mask_chosen")
    length = x.shape[-2]
    prefix = _checked_indices(previous_indices, "previous_indices", length)
    _output_length(prefix.shape[-1] + 1, length, chosen_mask, "len(previous_indices) + 1")
    x, prefix = _broadcast_batch(x, prefix, "previous_indices")
    try:
        rows = _teacher_forced_log_probs(x, prefix, p, chosen_mask, prefix.shape[-1] + 1)
    except _PointerOverflowError:
        raise _overflowed() from None
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
    (batch axes broadcast) -> (...) in the inputs' dtype. M = 0 gives 0 (the
    empty sequence has probability 1). With ``mask_chosen`` a sequence
    repeating an index gives −inf, and M > N is a ``ValueError``.
    """
    x, p = _checked_inputs(inputs, params)
    chosen_mask = check.boolean(mask_chosen, "mask_chosen")
    indices = _checked_indices(output_indices, "output_indices", x.shape[-2])
    steps = _output_length(indices.shape[-1], x.shape[-2], chosen_mask, "output_indices")
    x, indices = _broadcast_batch(x, indices, "output_indices")
    total: FloatArray = np.zeros(x.shape[:-2], dtype=x.dtype)
    try:
        rows = _teacher_forced_log_probs(x, indices, p, chosen_mask, steps)
    except _PointerOverflowError:
        raise _overflowed() from None
    for k, row in enumerate(rows):
        chosen: FloatArray = np.take_along_axis(row, indices[..., k : k + 1], axis=-1)[..., 0]
        total = total + chosen
    result: FloatArray = np.asarray(total)  # a 0-d array, not a NumPy scalar, when unbatched
    return result


def _greedy(
    x: FloatArray, params: PointerNetworkParameters, steps: int, mask_chosen: bool
) -> DecodedSequence:
    batch, length = x.shape[:-2], x.shape[-2]
    encoder_states, state = _encode(x, params)
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
        decoder_input = kernels.gather_row(x, chosen)
    indices: IntArray = (
        np.stack(chosen_indices, axis=-1) if steps else np.zeros((*batch, 0), dtype=np.intp)
    )
    return DecodedSequence(indices=indices, log_probability=total)


def greedy_decode(
    inputs: FloatArray,
    params: PointerNetworkParameters,
    output_length: IntScalar,
    *,
    mask_chosen: bool = False,
) -> DecodedSequence:
    r"""Greedy decoding: c_m = argmax_n p(c_m = n | c_{1:m−1}, x_{1:N}) for m = 1..M.

    Book: §8.2.1 (decoding is greedy or beam search).
    Shapes: inputs (..., N, n) -> indices (..., M) intp, log_probability (...).
    Ties go to the lowest index. M = 0 gives empty indices and log-probability
    0; M ≤ ``POINTER_STEP_LIMIT``.
    """
    x, p = _checked_inputs(inputs, params)
    chosen_mask = check.boolean(mask_chosen, "mask_chosen")
    steps = _output_length(output_length, x.shape[-2], chosen_mask)
    try:
        return _greedy(x, p, steps, chosen_mask)
    except _PointerOverflowError:
        raise _overflowed() from None


# --------------------------------------------------------------------------- beam search


NextLogProbs = Callable[[tuple[int, ...]], FloatArray]
"""``next_log_probs(prefix) -> (K,)``: log p(next index = k | prefix); −inf = impossible."""


def _checked_row(row: object, choices: int | None, dtype: np.dtype[Any] | None) -> FloatArray:
    """What a user's ``next_log_probs`` returned: a float vector, same K and dtype every time."""
    if not isinstance(row, np.ndarray) or row.dtype not in (np.float32, np.float64):
        raise TypeError(
            "next_log_probs must return a float32 or float64 numpy vector, returned "
            f"{getattr(row, 'dtype', type(row).__name__)}"
        )
    if row.ndim != 1 or row.shape[0] == 0 or (choices is not None and row.shape[0] != choices):
        raise ValueError(
            f"next_log_probs must return a non-empty vector of the same K entries every time, "
            f"returned shape {row.shape}"
        )
    if dtype is not None and row.dtype != dtype:
        raise TypeError(f"next_log_probs returned dtype {row.dtype}, earlier {dtype}")
    if np.isnan(row).any() or np.isposinf(row).any():
        raise ValueError("next_log_probs returned NaN or +inf (log-probabilities are ≤ 0 or −inf)")
    return row


def _beam_search(
    next_log_probs: Callable[[tuple[int, ...]], object], steps: int, width: int, checked: bool
) -> tuple[DecodedSequence, ...]:
    # A beam is (prefix, summed log-probability); the empty prefix has no sum yet
    # (its dtype is that of the first row returned by next_log_probs).
    beams: list[tuple[tuple[int, ...], FloatArray | None]] = [((), None)]
    choices: int | None = None
    dtype: np.dtype[Any] | None = None
    for step in range(steps):
        rows: list[FloatArray] = []
        for prefix, _ in beams:
            row = next_log_probs(prefix)
            if checked:
                row = _checked_row(row, choices, dtype)
            rows.append(row)  # type: ignore[arg-type]
            choices, dtype = rows[0].shape[-1], rows[0].dtype
        assert choices is not None
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


def beam_search(
    next_log_probs: NextLogProbs, *, output_length: IntScalar, beam_width: IntScalar
) -> tuple[DecodedSequence, ...]:
    r"""Beam search over sequences of M choices among K, for any next-step distribution.

    Book: §8.2.1 (decoding by beam search); used by ``beam_search_decode``.
    Shapes: ``next_log_probs(prefix)`` returns (K,) log-probabilities of the
    next choice (−inf = impossible) as a float32/float64 numpy vector, with
    the same K and dtype every time and no NaN or +inf (else a named error);
    the result's indices are (M,) intp.
    M = 0 returns the empty sequence with log-probability 0 (float64).
    Keeps the ``beam_width`` most probable prefixes after each step (ties:
    earlier beam, then lower index) and returns up to ``beam_width`` complete
    sequences, most probable first, each with indices (M,) and its summed
    log-probability (0-d). Candidates of probability 0 (−inf) are never kept;
    a step with none left is a ``ValueError``. Limits: M ≤ ``POINTER_STEP_LIMIT``,
    ``beam_width`` ≤ ``BEAM_WIDTH_LIMIT``.

    Note (a known limitation of beam search, checked in the tests): for
    M ≥ 3 the best beam can be LESS probable than the greedy sequence, because
    the greedy prefix can be pruned by prefixes that later lose. For M ≤ 2 (and
    for beam_width ≥ K^{M−1}, which prunes nothing) it is never less probable.
    """
    function = check.callable_(next_log_probs, "next_log_probs")
    steps = _output_length(output_length, 0, False)
    width = _beam_width(beam_width)
    return _beam_search(function, steps, width, checked=True)


def _beam_width(value: object) -> int:
    return check.size(
        value, "beam_width", high=BEAM_WIDTH_LIMIT, reason="BEAM_WIDTH_LIMIT: minutes per step"
    )


def beam_search_decode(
    inputs: FloatArray,
    params: PointerNetworkParameters,
    output_length: IntScalar,
    *,
    beam_width: IntScalar,
    mask_chosen: bool = False,
) -> tuple[DecodedSequence, ...]:
    r"""Beam-search decoding of one example: up to ``beam_width`` sequences, best first.

    Book: §8.2.1 (decoding is greedy or beam search).
    Shapes: inputs (N, n) (one example; beams are data dependent, so batch by
    looping) -> a tuple of DecodedSequence with indices (M,) and a 0-d
    log_probability in the inputs' dtype. Width 1 is greedy decoding.
    The decoder state of each prefix is cached, so each step costs one LSTM
    step per beam. Limits as ``beam_search``.
    """
    x, p = _checked_inputs(inputs, params)
    if x.ndim != 2:
        raise ValueError(
            f"beam_search_decode takes one example, inputs (N, n); got shape {x.shape}"
        )
    chosen_mask = check.boolean(mask_chosen, "mask_chosen")
    length = x.shape[0]
    steps = _output_length(output_length, length, chosen_mask)
    width = _beam_width(beam_width)
    encoder_states, final_state = _encode(x, p)
    cache: dict[tuple[int, ...], tuple[FloatArray, DecoderState]] = {}

    def next_log_probs(prefix: tuple[int, ...]) -> FloatArray:
        if prefix not in cache:
            if prefix:
                next_log_probs(prefix[:-1])  # makes sure the parent's state is cached
                state, decoder_input = cache[prefix[:-1]][1], x[prefix[-1]]
            else:
                state, decoder_input = final_state, p.start
            available: BoolArray | None = None
            if chosen_mask:
                available = np.ones(length, dtype=np.bool_)
                available[list(prefix)] = False
            cache[prefix] = _decoder_step(encoder_states, state, decoder_input, available, p)
        return cache[prefix][0]

    if steps == 0:
        return (DecodedSequence(np.zeros(0, dtype=np.intp), np.zeros((), dtype=x.dtype)),)
    try:
        return _beam_search(next_log_probs, steps, width, checked=False)
    except _PointerOverflowError:
        raise _overflowed() from None
