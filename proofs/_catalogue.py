"""What each proof is about: book section, exercise, one-line claim, run-time class.

``python -m proofs --list`` prints this table; ``python -m proofs 8-6`` and
``python -m proofs 8.6.1`` select by it; the HTML document's contents are
grouped by its first section. ``tests/test_proofs.py`` checks that every proof
module has an entry (and every entry a module), so a new proof fails the tests
until it is catalogued here: add ONE line to ``CATALOGUE``, e.g.

    "my_new_proof": _e("8.2", "what it proves, in one line", exercise="8-2"),
"""

from dataclasses import dataclass
from typing import Literal

Runtime = Literal["instant", "seconds", "minutes"]

RUNTIMES: dict[Runtime, str] = {
    "instant": "under a second",
    "seconds": "a few seconds",
    "minutes": "tens of seconds or more on 2 cores (--quick: seconds)",
}
"""What each run-time class means (measured on a quiet 2-core machine)."""

SECTION_TITLES: dict[str, str] = {
    "6.5": "LSTM and GRU (chapter 6, for exercise 8-1)",
    "8.1": "Why attention",
    "8.2": "The attention mechanism",
    "8.2.1": "Variants of attention",
    "8.3": "Self-attention",
    "8.4": "Memory in the brain",
    "8.5": "Memory-augmented neural networks",
    "8.5.1": "End-to-end memory network",
    "8.5.2": "Neural Turing machine",
    "8.6": "Associative memory based on neurodynamics",
    "8.6.1": "Hopfield network",
    "8.6.2": "Associative memory as a component",
}
"""Book section numbers (chapter 8 unless noted) and their titles, for the contents."""


@dataclass(frozen=True)
class Entry:
    """One proof's place in the book and what it proves."""

    sections: tuple[str, ...]
    """Book sections, the one the proof belongs to first (e.g. ``("8.2.1", "8.3")``)."""
    claim: str
    """What it proves, in one line."""
    exercises: tuple[str, ...] = ()
    """Book exercises it answers or supports (e.g. ``("8-6",)``)."""
    runtime: Runtime = "instant"

    @property
    def primary_section(self) -> str:
        """The section the proof is filed under in the contents."""
        return self.sections[0]

    @property
    def reference(self) -> str:
        """``"§8.6.1, exercise 8-6"``."""
        parts = [f"§{section}" for section in self.sections]
        parts += [f"exercise {exercise}" for exercise in self.exercises]
        return ", ".join(parts)


def _e(sections: str, claim: str, *, exercise: str = "", runtime: Runtime = "instant") -> Entry:
    """An entry from space-separated sections and exercises (``"8.2.1 8.3"``, ``"8-6"``)."""
    return Entry(tuple(sections.split()), claim, tuple(exercise.split()), runtime)


CATALOGUE: dict[str, Entry] = {
    "attention_backward": _e("8.2 8.3", "Gradients of softmax, log-sum-exp and scaled dot-product attention: dV = PᵀdO, dS = P ∘ (dP − rowsum(dO ∘ O))", runtime="seconds"),  # noqa: E501
    "continuous_hopfield_lyapunov": _e("8.6.1", "The continuous Hopfield energy never increases along τ du/dt = −u + W tanh(ku) + b", runtime="seconds"),  # noqa: E501
    "crf_attention_independent_limit": _e("8.2.1", "With zero pairwise potentials, CRF attention marginals are σ(θ_n(1) − θ_n(0))"),  # noqa: E501
    "crf_attention_marginals": _e("8.2.1", "Forward–backward gives the exact CRF attention marginals, equal to ∂ log Z/∂θ_n(1)"),  # noqa: E501
    "hard_attention_reinforce": _e("8.2.1", "REINFORCE for hard attention: ∇ E_{z∼α}[L(x_z)] = E_{z∼α}[L(x_z) ∇ log α_z]", runtime="seconds"),  # noqa: E501
    "hopfield_capacity": _e("8.6.1", "Measured Hebbian α_c lies in a band stated from theory before the run (AGS 0.138, finite-M anchors)", runtime="seconds"),  # noqa: E501
    "hopfield_counterexamples": _e("8.6.1", "Without symmetry, zero diagonal or asynchronous updates the energy can rise (exact counterexamples)", exercise="8-6"),  # noqa: E501
    "hopfield_energy_decrease": _e("8.6.1", "The Hopfield energy never increases under asynchronous updates", exercise="8-6"),  # noqa: E501
    "hopfield_signal_to_noise": _e("8.6.1", "Hebbian bit-error probability ½ erfc(1/√(2α)); error-free recall up to N ≈ M/(2 ln M)", runtime="seconds"),  # noqa: E501
    "hopfield_synchronous_lyapunov": _e("8.6.1", "Synchronous Hopfield dynamics ends in a fixed point or a 2-cycle", exercise="8-6"),  # noqa: E501
    "lstm_parameter_count": _e("6.5", "An LSTM with input size n and hidden size m has 4m(m + n + 1) parameters", exercise="8-1"),  # noqa: E501
    "memn2n_vs_ntm": _e("8.5 8.5.1 8.5.2", "MemN2N reads a fixed memory by key-value attention; an NTM also writes", exercise="8-5"),  # noqa: E501
    "memory_organisations": _e("8.5", "Stack, queue, deque, set and tree memories compared: discipline, reach, cost", exercise="8-4"),  # noqa: E501
    "modern_hopfield_is_attention": _e("8.6.2 8.2", "The modern Hopfield update is key-value attention; dense memory with z² is Hopfield", runtime="seconds"),  # noqa: E501
    "multi_head_single_query": _e("8.2.1 8.3", "Book multi-head attention with a single query is key-value attention"),  # noqa: E501
    "neural_stack_discrete_limit": _e("8.5", "A continuous stack/queue with 0/1 strengths behaves exactly like the discrete one", exercise="8-4"),  # noqa: E501
    "ntm_addressing_laws": _e("8.5.2", "Every NTM addressing stage maps distributions to distributions; write laws"),  # noqa: E501
    "online_softmax": _e("8.3 8.2", "Merging online-softmax block states (m, ℓ, o) is associative; folding any partition gives softmax(s)·V"),  # noqa: E501
    "scaled_dot_product_variance": _e("8.2", "The scaled dot product qᵀk/√d_k has mean 0 and variance σ⁴", exercise="8-2", runtime="seconds"),  # noqa: E501
    "self_attention_complexity": _e("8.3", "Self-attention vs recurrence vs convolution: cost, sequential operations, path length", exercise="8-3"),  # noqa: E501
    "soft_attention_expectation": _e("8.2", "Soft attention is the expected input: Σ_n α_n x_n = E_{z∼α}[x_z]"),  # noqa: E501
    "recurrent_backward": _e("6.5", "Gradients of one LSTM and one GRU step and backpropagation through time, derived from the cell equations", runtime="seconds"),  # noqa: E501
    "softmax_laws": _e("8.2", "Softmax weights are positive and sum to 1, are shift-invariant, Jacobian diag(α) − ααᵀ"),  # noqa: E501
    "softmax_saturation": _e("8.2", "With a unique maximum, the softmax Jacobian of softmax(t·s) tends to 0 as t → ∞", exercise="8-2"),  # noqa: E501
}  # fmt: skip
"""Every proof module's entry (one line each; ``tests/test_proofs.py`` checks completeness)."""
