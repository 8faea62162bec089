"""Properties of the pointer network (book §8.2.1; Vinyals et al. 2015)."""

import itertools
import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl import pointer_network as pn
from impl import recurrent as cells
from impl._typing import FloatArray, IntArray
from impl.scores import AdditiveScoreParameters
from impl.testing import strategies as s
from impl.testing.tolerances import assert_close, eps

ENUMERATION_RTOL_EPS = 1000
"""Σ over all N^M ≤ 64 sequences of p(c_{1:M}) is 1 up to this many eps of the
dtype: each probability is exp of a sum of M ≤ 3 log-softmax entries (a few
rounded operations each, relative error ≲ 20 eps), and ≤ 64 of them are added."""

output_lengths = st.integers(min_value=0, max_value=5)


SHARPENING = 4.0
"""The tests multiply every initial parameter by this factor. With the default
initialisation (±1/√m) the pointer distributions are nearly uniform, so a bug
in what the decoder is fed changes log-probabilities by only ~1e-4, below the
float32 tolerance; scaled-up parameters give peaked distributions in which such
bugs show."""


def _scaled_gate(gate: cells.GateParameters, factor: float) -> cells.GateParameters:
    return cells.GateParameters(W=gate.W * factor, U=gate.U * factor, b=gate.b * factor)


def _scaled_lstm(lstm: cells.LSTMParameters, factor: float) -> cells.LSTMParameters:
    return cells.LSTMParameters(
        *(
            _scaled_gate(g, factor)
            for g in (lstm.input_gate, lstm.forget_gate, lstm.output_gate, lstm.candidate)
        )
    )


def _params(inputs: s.PointerInputs) -> pn.PointerNetworkParameters:
    base = pn.PointerNetworkParameters.initialize(
        np.random.default_rng(inputs.seed),
        input_size=inputs.inputs.shape[-1],
        hidden_size=inputs.hidden_size,
        attention_size=inputs.attention_size,
        dtype=inputs.inputs.dtype.type,
    )
    attention = base.attention
    return pn.PointerNetworkParameters(
        encoder=_scaled_lstm(base.encoder, SHARPENING),
        decoder=_scaled_lstm(base.decoder, SHARPENING),
        attention=AdditiveScoreParameters(
            W=attention.W * SHARPENING, U=attention.U * SHARPENING, v=attention.v * SHARPENING
        ),
        start=base.start * SHARPENING,
    )


def _all_sequences(length: int, steps: int) -> IntArray:
    """Every index sequence in [0, N)^M, as rows of a (N^M, M) array."""
    rows = list(itertools.product(range(length), repeat=steps))
    return np.asarray(rows, dtype=np.intp).reshape(len(rows), steps)


# --------------------------------------------------------------------------- distribution


@given(s.pointer_inputs(batch=()), st.integers(min_value=0, max_value=3), st.booleans())
def test_sequence_probabilities_sum_to_one(
    inputs: s.PointerInputs, steps: int, mask_chosen: bool
) -> None:
    """§8.2.1: Σ over all c_{1:M} ∈ [0, N)^M of Π_m p(c_m | c_{1:m−1}, x) = 1 (enumeration)."""
    x = inputs.inputs
    length = x.shape[-2]
    if mask_chosen:
        steps = min(steps, length)
    params = _params(inputs)
    sequences = _all_sequences(length, steps)
    log_p = pn.sequence_log_probability(x, sequences, params, mask_chosen=mask_chosen)
    assert log_p.shape == (len(sequences),)
    total = np.exp(log_p.astype(np.float64)).sum()
    assert_close(np.asarray(total), 1.0, rtol=ENUMERATION_RTOL_EPS * eps(x.dtype))
    if mask_chosen:  # sequences that repeat an index are impossible, the others are not
        repeats = np.array([len(set(row)) < steps for row in sequences.tolist()], dtype=bool)
        assert np.all(np.isneginf(log_p[repeats]))
        assert np.all(np.isfinite(log_p[~repeats]))


@given(s.pointer_inputs(), st.data())
def test_pointer_step_log_probs_are_a_distribution(inputs: s.PointerInputs, data: Any) -> None:
    """§8.2.1: p(c_m = · | c_{1:m−1}, x) = softmax_n(s_{m,n}) sums to 1; chosen indices are −inf."""
    x = inputs.inputs
    length = x.shape[-2]
    k = data.draw(st.integers(min_value=0, max_value=length - 1))
    prefix = data.draw(s.permutations_of(length))[:k]
    params = _params(inputs)
    for mask_chosen in (False, True):
        log_p = pn.pointer_step_log_probs(x, prefix, params, mask_chosen=mask_chosen)
        assert log_p.shape == (*x.shape[:-2], length)
        assert log_p.dtype == x.dtype
        assert_close(np.asarray(np.exp(log_p).sum(axis=-1)), np.ones(x.shape[:-2], dtype=x.dtype))
        if k > 0:
            assert np.all(np.isneginf(log_p[..., prefix])) == mask_chosen
        assert np.all(np.isfinite(np.delete(log_p, prefix, axis=-1)))


@given(s.pointer_inputs(), st.data(), st.booleans())
def test_sequence_log_probability_is_sum_of_step_log_probs(
    inputs: s.PointerInputs, data: Any, mask_chosen: bool
) -> None:
    """§8.2.1 chain rule: log p(c_{1:M} | x) = Σ_m log p(c_m | c_{1:m−1}, x), step by step."""
    x = inputs.inputs
    length = x.shape[-2]
    max_steps = length if mask_chosen else 4
    steps = data.draw(st.integers(min_value=0, max_value=max_steps))
    sequence = np.asarray(
        data.draw(st.lists(st.integers(0, length - 1), min_size=steps, max_size=steps)),
        dtype=np.intp,
    )
    params = _params(inputs)
    total = pn.sequence_log_probability(x, sequence, params, mask_chosen=mask_chosen)
    by_steps = np.zeros(x.shape[:-2], dtype=x.dtype)
    for m in range(steps):
        row = pn.pointer_step_log_probs(x, sequence[:m], params, mask_chosen=mask_chosen)
        by_steps = by_steps + row[..., sequence[m]]
    if np.all(np.isneginf(by_steps)):
        assert np.all(np.isneginf(total))
    else:
        assert_close(total, by_steps)


# --------------------------------------------------------------------------- decoding


@given(s.pointer_inputs(), output_lengths)
def test_greedy_decode_outputs_valid_indices(inputs: s.PointerInputs, steps: int) -> None:
    """§8.2.1: outputs c_m are indices into the input, 0 ≤ c_m < N; log p ≤ 0; dtypes kept."""
    x = inputs.inputs
    decoded = pn.greedy_decode(x, _params(inputs), steps)
    assert decoded.indices.shape == (*x.shape[:-2], steps)
    assert decoded.indices.dtype == np.intp
    assert np.all((decoded.indices >= 0) & (decoded.indices < x.shape[-2]))
    assert decoded.log_probability.shape == x.shape[:-2]
    assert decoded.log_probability.dtype == x.dtype
    assert np.all(decoded.log_probability <= 0)


@given(s.pointer_inputs(), st.integers(min_value=1, max_value=3))
def test_decoding_with_mask_gives_permutations(inputs: s.PointerInputs, width: int) -> None:
    """§8.2.1: with chosen indices masked and M = N, every decoded output is a permutation."""
    x = inputs.inputs
    length = x.shape[-2]
    params = _params(inputs)
    greedy = pn.greedy_decode(x, params, length, mask_chosen=True)
    assert np.array_equal(
        np.sort(greedy.indices, axis=-1), np.broadcast_to(np.arange(length), greedy.indices.shape)
    )
    first = x[(0,) * (x.ndim - 2)]
    for beam in pn.beam_search_decode(first, params, length, beam_width=width, mask_chosen=True):
        assert np.array_equal(np.sort(beam.indices), np.arange(length))


@given(s.pointer_inputs(batch=()), st.integers(min_value=0, max_value=4), st.booleans())
def test_beam_search_width_one_equals_greedy(
    inputs: s.PointerInputs, steps: int, mask_chosen: bool
) -> None:
    """§8.2.1: beam search with one beam is greedy decoding (same indices and log p, bitwise)."""
    x = inputs.inputs
    steps = min(steps, x.shape[-2]) if mask_chosen else steps
    params = _params(inputs)
    greedy = pn.greedy_decode(x, params, steps, mask_chosen=mask_chosen)
    (beam,) = pn.beam_search_decode(x, params, steps, beam_width=1, mask_chosen=mask_chosen)
    assert np.array_equal(beam.indices, greedy.indices)
    assert np.array_equal(beam.log_probability, greedy.log_probability)
    assert beam.log_probability.dtype == x.dtype


@given(
    s.pointer_inputs(batch=()),
    st.integers(min_value=1, max_value=2),
    st.integers(min_value=1, max_value=5),
    st.booleans(),
)
def test_best_beam_at_least_greedy_for_at_most_two_steps(
    inputs: s.PointerInputs, steps: int, width: int, mask_chosen: bool
) -> None:
    """§8.2.1: for M ≤ 2 the best beam is at least as probable as the greedy sequence.

    The greedy first index is the top-1 prefix, so it is in every beam; the
    greedy sequence is then one of the last step's candidates. (For M ≥ 3 this
    fails in general: see ``test_beam_search_best_beam_can_be_below_greedy``.)
    """
    x = inputs.inputs
    steps = min(steps, x.shape[-2]) if mask_chosen else steps
    params = _params(inputs)
    greedy = pn.greedy_decode(x, params, steps, mask_chosen=mask_chosen)
    beams = pn.beam_search_decode(x, params, steps, beam_width=width, mask_chosen=mask_chosen)
    assert beams[0].log_probability >= greedy.log_probability
    scores = [float(b.log_probability) for b in beams]
    assert scores == sorted(scores, reverse=True)


@given(s.pointer_inputs(batch=(), max_len=3), st.integers(min_value=1, max_value=3), st.booleans())
def test_exhaustive_beam_search_finds_the_most_probable_sequence(
    inputs: s.PointerInputs, steps: int, mask_chosen: bool
) -> None:
    """§8.2.1: with width ≥ N^M nothing is pruned: the beams are all possible sequences,
    best first, each with its chain-rule log-probability; the best is ≥ greedy for any M."""
    x = inputs.inputs
    length = x.shape[-2]
    steps = min(steps, length) if mask_chosen else steps
    params = _params(inputs)
    beams = pn.beam_search_decode(
        x, params, steps, beam_width=length**steps, mask_chosen=mask_chosen
    )
    expected_count = math.perm(length, steps) if mask_chosen else length**steps
    assert len(beams) == expected_count
    assert len({tuple(b.indices.tolist()) for b in beams}) == expected_count
    found = np.stack([b.log_probability for b in beams])
    chain_rule = pn.sequence_log_probability(
        x, np.stack([b.indices for b in beams]), params, mask_chosen=mask_chosen
    )
    assert_close(found, chain_rule)
    everything = pn.sequence_log_probability(
        x, _all_sequences(length, steps), params, mask_chosen=mask_chosen
    )
    assert_close(found[:1], np.max(everything, keepdims=True))
    greedy = pn.greedy_decode(x, params, steps, mask_chosen=mask_chosen)
    assert found[0] >= greedy.log_probability


def test_beam_search_best_beam_can_be_below_greedy() -> None:
    """Beam search (§8.2.1) does NOT always beat greedy: a checked counterexample with M = 3.

    K = 10 choices. Step 1: p(0) = 0.6, p(1) = 0.4. After 0: uniform (0.06 per
    prefix); after 1: p(0) = p(1) = 0.5 (0.2 per prefix); after (0, ·): index 0
    surely; after (1, ·): uniform. Greedy: (0, 0, 0), p = 0.06. Width 2 keeps
    (1, 0), (1, 1) at step 2 (0.2 > 0.06), pruning every (0, ·), and ends at
    p = 0.02 < 0.06.
    """
    choices = 10

    def distribution(prefix: tuple[int, ...]) -> FloatArray:
        probabilities = np.zeros(choices)
        if prefix == ():
            probabilities[:2] = (0.6, 0.4)
        elif prefix == (0,) or (len(prefix) == 2 and prefix[0] == 1):
            probabilities[:] = 1 / choices
        elif prefix == (1,):
            probabilities[:2] = 0.5
        else:
            probabilities[0] = 1.0
        with np.errstate(divide="ignore"):
            logs: FloatArray = np.log(probabilities)
        return logs

    (greedy,) = pn.beam_search(distribution, output_length=3, beam_width=1)
    best = pn.beam_search(distribution, output_length=3, beam_width=2)[0]
    assert greedy.indices.tolist() == [0, 0, 0]
    assert_close(np.asarray(np.exp(greedy.log_probability)), np.asarray(0.06))
    assert_close(np.asarray(np.exp(best.log_probability)), np.asarray(0.02))
    assert best.log_probability < greedy.log_probability
    # Exhaustive width recovers the optimum (here the greedy sequence).
    exhaustive = pn.beam_search(distribution, output_length=3, beam_width=choices**3)[0]
    assert exhaustive.log_probability == greedy.log_probability


# --------------------------------------------------------------------------- batching and edges


@given(s.pointer_inputs(), st.integers(min_value=0, max_value=3), st.booleans())
def test_greedy_decode_batch_consistency(
    inputs: s.PointerInputs, steps: int, mask_chosen: bool
) -> None:
    """§8.2.1: batched greedy decoding and sequence log-probabilities equal the per-item ones."""
    x = inputs.inputs
    steps = min(steps, x.shape[-2]) if mask_chosen else steps
    params = _params(inputs)
    batched = pn.greedy_decode(x, params, steps, mask_chosen=mask_chosen)
    log_p = pn.sequence_log_probability(x, batched.indices, params, mask_chosen=mask_chosen)
    assert_close(log_p, batched.log_probability)
    for index in np.ndindex(x.shape[:-2]):
        single = pn.greedy_decode(x[index], params, steps, mask_chosen=mask_chosen)
        assert np.array_equal(single.indices, batched.indices[index])
        assert_close(single.log_probability, batched.log_probability[index])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pointer_network_single_input_and_empty_output(dtype: Any) -> None:
    """§8.2.1 edges: N = 1 forces c_m = 0 with probability 1; M = 0 has log p = 0."""
    rng = np.random.default_rng(5)
    params = pn.PointerNetworkParameters.initialize(
        rng, input_size=2, hidden_size=3, attention_size=2, dtype=dtype
    )
    x = rng.normal(size=(1, 2)).astype(dtype)
    greedy = pn.greedy_decode(x, params, 3)
    assert greedy.indices.tolist() == [0, 0, 0]
    assert greedy.log_probability == 0
    masked = pn.greedy_decode(x, params, 1, mask_chosen=True)
    assert masked.indices.tolist() == [0]
    assert masked.log_probability == 0
    empty = pn.greedy_decode(rng.normal(size=(4, 3, 2)).astype(dtype), params, 0)
    assert empty.indices.shape == (4, 0)
    assert np.array_equal(empty.log_probability, np.zeros(4, dtype=dtype))
    (beam,) = pn.beam_search_decode(x, params, 0, beam_width=2)
    assert beam.indices.shape == (0,)
    assert beam.log_probability == 0
    no_steps = pn.sequence_log_probability(x, np.zeros(0, dtype=np.intp), params)
    assert no_steps.shape == ()
    assert no_steps == 0


def test_pointer_network_rejects_bad_input() -> None:
    """Bad inputs raise errors naming the argument (M > N under a mask, ranges, shapes, dtypes)."""
    rng = np.random.default_rng(6)
    params = pn.PointerNetworkParameters.initialize(
        rng, input_size=2, hidden_size=3, attention_size=2
    )
    x = rng.normal(size=(3, 2))
    with pytest.raises(ValueError, match=r"M = 4 exceeds the N = 3 inputs.*masked at step 4"):
        pn.greedy_decode(x, params, 4, mask_chosen=True)
    with pytest.raises(ValueError, match="every index is masked"):
        pn.beam_search_decode(x, params, 4, beam_width=2, mask_chosen=True)
    with pytest.raises(ValueError, match="every index is masked"):
        pn.sequence_log_probability(x, np.array([0, 1, 2, 0]), params, mask_chosen=True)
    with pytest.raises(ValueError, match=r"^len\(previous_indices\) \+ 1 M = 4 exceeds the N = 3"):
        pn.pointer_step_log_probs(x, np.array([0, 1, 2]), params, mask_chosen=True)
    with pytest.raises(ValueError, match=r"output_indices must lie in \[0, 2\]"):
        pn.sequence_log_probability(x, np.array([0, 3]), params)
    with pytest.raises(ValueError, match=r"previous_indices must lie in \[0, 2\]"):
        pn.pointer_step_log_probs(x, np.array([-1]), params)
    with pytest.raises(TypeError, match="integer dtype"):
        pn.sequence_log_probability(x, np.array([0.0, 1.0]), params)
    with pytest.raises(ValueError, match="inputs has 3 features, the network expects n = 2"):
        pn.greedy_decode(rng.normal(size=(3, 3)), params, 2)
    with pytest.raises(TypeError, match="inputs has dtype float32"):
        pn.greedy_decode(x.astype(np.float32), params, 2)
    with pytest.raises(ValueError, match="at least one position"):
        pn.greedy_decode(np.zeros((0, 2)), params, 0)
    with pytest.raises(ValueError, match="takes one example"):
        pn.beam_search_decode(rng.normal(size=(2, 3, 2)), params, 2, beam_width=2)
    with pytest.raises(ValueError, match="beam_width must be at least 1"):
        pn.beam_search_decode(x, params, 2, beam_width=0)
    with pytest.raises(ValueError, match="output_length must be at least 0"):
        pn.greedy_decode(x, params, -1)
    with pytest.raises(ValueError, match="do not broadcast"):
        pn.sequence_log_probability(
            rng.normal(size=(2, 3, 2)), np.zeros((3, 1), dtype=np.intp), params
        )
    with pytest.raises(TypeError, match="params must be a PointerNetworkParameters"):
        pn.greedy_decode(x, params.encoder, 2)  # type: ignore[arg-type]  # deliberately wrong
    with pytest.raises(ValueError, match="start must have shape"):
        pn.PointerNetworkParameters(params.encoder, params.decoder, params.attention, np.zeros(3))
    with pytest.raises(ValueError, match="every continuation has probability 0"):
        pn.beam_search(lambda prefix: np.full(2, -np.inf), output_length=1, beam_width=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pointer_network_saturated_inputs_stay_normalised(dtype: Any) -> None:
    """§8.2.1 extremes: inputs of ±1e30 saturate the LSTMs without overflow warnings;
    the distribution stays finite and sums to 1."""
    rng = np.random.default_rng(7)
    params = pn.PointerNetworkParameters.initialize(
        rng, input_size=2, hidden_size=3, attention_size=2, dtype=dtype
    )
    x = (1e30 * rng.choice([-1.0, 1.0], size=(3, 2))).astype(dtype)
    sequences = _all_sequences(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_p = pn.sequence_log_probability(x, sequences, params)
    assert np.all(np.isfinite(log_p))
    total = np.exp(log_p.astype(np.float64)).sum()
    assert_close(np.asarray(total), 1.0, rtol=ENUMERATION_RTOL_EPS * eps(dtype))
    assert np.isfinite(pn.greedy_decode(x, params, 3).log_probability)


def test_pointer_parameters_reject_mismatches() -> None:
    """The parameter container checks sizes and dtypes across encoder, decoder and attention."""
    rng = np.random.default_rng(8)
    small = pn.PointerNetworkParameters.initialize(
        rng, input_size=2, hidden_size=3, attention_size=2
    )
    other = pn.PointerNetworkParameters.initialize(
        rng, input_size=2, hidden_size=4, attention_size=2
    )
    single = pn.PointerNetworkParameters.initialize(
        rng, input_size=2, hidden_size=3, attention_size=2, dtype=np.float32
    )
    with pytest.raises(ValueError, match="decoder has"):
        pn.PointerNetworkParameters(small.encoder, other.decoder, small.attention, small.start)
    with pytest.raises(ValueError, match="attention W and U must have m = 3 columns"):
        pn.PointerNetworkParameters(small.encoder, small.decoder, other.attention, small.start)
    # The message lists every part by its field name, so the odd one out can be found.
    listing = "encoder float64, decoder float32, attention float64, start float64"
    with pytest.raises(TypeError, match=f"share one dtype, got {listing}$"):
        pn.PointerNetworkParameters(small.encoder, single.decoder, small.attention, small.start)


@given(s.pointer_inputs())
def test_pointer_first_step_matches_formula(inputs: s.PointerInputs) -> None:
    """§8.2.1: p(c_1 = n | x) = softmax_n(vᵀ tanh(W e_n + U h_1)), h_1 = LSTM(start; h_N, c_N)."""
    x = inputs.inputs
    params = _params(inputs)
    encoder_states, final_state = pn.encode(x, params)
    assert encoder_states.shape == (*x.shape[:-1], inputs.hidden_size)
    start = np.broadcast_to(params.start, (*x.shape[:-2], x.shape[-1]))
    h_1, _ = cells.lstm_cell(start, final_state, params.decoder)
    a = params.attention
    scores = np.tanh(encoder_states @ a.W.T + (h_1 @ a.U.T)[..., None, :]) @ a.v
    shifted = scores - scores.max(axis=-1, keepdims=True)
    expected = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    actual = pn.pointer_step_log_probs(x, np.zeros((0,), dtype=np.intp), params)
    # Same formula, different evaluation order: a few ulps of log-probabilities of O(1).
    assert_close(actual, expected.astype(x.dtype), atol=10 * eps(x.dtype))
