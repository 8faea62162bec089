"""nndl8's conformance kit: check your softmax, attention, recurrent or memory kernel.

Shipped with the wheel (like ``numpy.testing`` and ``torch.testing``), so an
engineer can point nndl8's checks at their own function after ``pip install``::

    from impl.testing import check_sdpa, format_results
    results = check_sdpa(my_attention, precision="float32")  # PyTorch's SDPA signature
    print(format_results(results))  # one row per check; a report for each failure

or from the shell: ``nndl8 conformance torch`` / ``nndl8 conformance jax`` /
``nndl8 conformance my_module:my_attention --kind sdpa --dtype bfloat16``.

Each check combines (a) agreement with nndl8's float64 reference within a
rounding-error bound derived for the candidate's declared precision
(``impl.testing.bounds``, derivation in ``spec.rounding_error``) and (b) laws the
function must obey on its own (weights a distribution, masked positions exactly
0, permutation equivariance over the memory, batch consistency).

Modules: ``strategies`` and ``tolerances`` (shared with nndl8's own tests),
``report`` (results and failure reports), ``registry`` (kinds, targets, expected
differences), ``runner`` (the hypothesis driver), ``bounds`` (derived
tolerances), ``attention`` (softmax, log-softmax, SDPA, multi-head checks),
``torch_adapters``/``jax_adapters``/``layouts`` (adapters), ``cli``;
``recurrent`` (LSTM/GRU cells and sequences, PyTorch semantics) with
``torch_recurrent`` (nn.LSTM/LSTMCell/GRU/GRUCell), ``memory`` (discrete and
modern Hopfield, NTM addressing and write) with ``torch_memory``.
"""

from impl.testing.attention import check_log_softmax, check_mha, check_sdpa, check_softmax
from impl.testing.backward import (
    check_gru_cell_backward,
    check_lstm_cell_backward,
    check_sdpa_backward,
)
from impl.testing.memory import (
    check_hopfield_update,
    check_hopfield_weights,
    check_modern_hopfield,
    check_modern_hopfield_energy,
    check_ntm_addressing,
    check_ntm_write,
)
from impl.testing.recurrent import check_gru, check_gru_cell, check_lstm, check_lstm_cell
from impl.testing.references import MultiheadParameters
from impl.testing.registry import (
    ExpectedDifference,
    Kind,
    RunConfig,
    Target,
    kinds,
    register_kind,
    register_target,
    targets,
)
from impl.testing.report import CheckResult, Failure, Outcome, format_results
from impl.testing.runner import CheckFailed, CheckRun, call, compare, require
from impl.testing.tolerances import PRECISIONS, Precision, gamma, unit_roundoff

__all__ = [
    "PRECISIONS",
    "CheckFailed",
    "CheckResult",
    "CheckRun",
    "ExpectedDifference",
    "Failure",
    "Kind",
    "MultiheadParameters",
    "Outcome",
    "Precision",
    "RunConfig",
    "Target",
    "call",
    "check_gru",
    "check_gru_cell",
    "check_gru_cell_backward",
    "check_hopfield_update",
    "check_hopfield_weights",
    "check_log_softmax",
    "check_lstm",
    "check_lstm_cell",
    "check_lstm_cell_backward",
    "check_mha",
    "check_modern_hopfield",
    "check_modern_hopfield_energy",
    "check_ntm_addressing",
    "check_ntm_write",
    "check_sdpa",
    "check_sdpa_backward",
    "check_softmax",
    "compare",
    "format_results",
    "gamma",
    "kinds",
    "register_kind",
    "register_target",
    "require",
    "targets",
    "unit_roundoff",
]
