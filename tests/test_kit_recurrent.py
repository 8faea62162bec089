"""The recurrent conformance checks: derived bounds, a zoo of wrong LSTMs/GRUs, PyTorch's modules.

Book: §6.5 (LSTM, GRU). Kit: ``impl.testing.recurrent`` (checks) and
``spec.rounding_error_recurrent`` (the bound's rules). Every wrong
implementation below must be rejected by a check whose name says what broke;
correct ones (ours in float64/float32, PyTorch's in float64/float32/bfloat16)
must pass.
"""

import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import example, given
from hypothesis import strategies as st

from impl.testing import recurrent as kit
from impl.testing.registry import ExpectedDifference, RunConfig
from impl.testing.report import CheckResult, Outcome
from impl.testing.tolerances import Precision, unit_roundoff
from spec import rounding_error_recurrent as rules

EXAMPLES = 8
"""Hypothesis examples per check: every zoo bug below shows on the first few draws."""


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """One torch thread per pytest worker, as one BLAS thread (Makefile): torch's default of
    one thread per core oversubscribes the 2 cores under xdist (measured: one check_lstm run
    with torch float32 took 29 s with 2 threads on the loaded machine, 2 s with 1)."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


MARGIN_CASES = 2500 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 8
"""Random cases per kind and precision for the bound experiment: 4 × 2500 = 10⁴ per
precision in the thorough profile, a few seconds' worth by default."""


# --------------------------------------------------------------------------- spec rules


def test_rounding_rules_are_proved() -> None:
    """Higham's standard model: product, sum and convex-update rules dominate the exact error."""
    assert rules.product_rule_holds()
    assert rules.sum_rule_holds()
    assert rules.convex_update_perturbation_holds()
    assert rules.parameter_count_closed_forms_hold()


def test_rule_check_rejects_a_rule_without_its_second_order_term() -> None:
    """The vertex proof can fail: drop e_a·e_b from the product rule and it no longer holds."""
    a, b, ea, eb, u = sympy.symbols("a b e_a e_b u", nonnegative=True)
    weak = a * eb + b * ea + u * (a + ea) * (b + eb)

    def error(a: Any, b: Any, e_a: Any, e_b: Any, u: Any) -> Any:
        return (a + e_a) * (b + e_b) * (1 + u) - a * b

    assert not rules.rule_dominates(weak, error, (ea, eb, u), (a, b), (a, b, ea, eb, u))


def test_activation_slopes_justify_the_interval_lipschitz_constant() -> None:
    """σ', tanh' even, maximal at 0 and decreasing in |z| (spec identities)."""
    assert rules.slopes_are_even_and_peak_at_zero()


def test_spec_unit_roundoffs_are_the_kits() -> None:
    """The spec's u per precision is the one the kit evaluates with."""
    from impl.testing.tolerances import unit_roundoff

    for name, u in rules.UNIT_ROUNDOFF.items():
        assert unit_roundoff(name) == float(u)


def test_gamma_matches_higham() -> None:
    """γ_k = ku/(1 − ku) (Higham Lemma 3.1)."""
    u = sympy.Rational(1, 2**24)
    assert rules.gamma(3, u) == 3 * u / (1 - 3 * u)


# --------------------------------------------------------------------------- NumPy candidates


def _sigmoid(z: Any) -> Any:
    return 1 / (1 + np.exp(-z))


def _gate_split(a: Any, parts: int) -> list[Any]:
    m = a.shape[-1] // parts
    return [a[..., k * m : (k + 1) * m] for k in range(parts)]


def numpy_lstm_cell(
    dtype: Any = np.float64, *, order: str = "ifgo", drop_bias_hh: bool = False
) -> Callable[..., Any]:
    """An LSTM cell in NumPy computing in ``dtype``; ``order``/``drop_bias_hh`` plant bugs."""

    def cell(x: Any, hx: Any, params: dict[str, Any], suffix: str = "") -> Any:
        h, c = (a.astype(dtype) for a in hx)
        p = {k: v.astype(dtype) for k, v in params.items()}
        z = x.astype(dtype) @ p[f"weight_ih{suffix}"].T + h @ p[f"weight_hh{suffix}"].T
        if f"bias_ih{suffix}" in p:
            z = z + p[f"bias_ih{suffix}"]
            if not drop_bias_hh:
                z = z + p[f"bias_hh{suffix}"]
        blocks = dict(zip(order, _gate_split(z, 4), strict=True))
        i, f, g, o = (
            _sigmoid(blocks["i"]),
            _sigmoid(blocks["f"]),
            np.tanh(blocks["g"]),
            _sigmoid(blocks["o"]),
        )
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        return h_new.astype(x.dtype), c_new.astype(x.dtype)

    return cell


def numpy_lstm(
    dtype: Any = np.float64, *, ignore_projection: bool = False, **bugs: Any
) -> Callable[..., Any]:
    """nn.LSTM's convention on top of ``numpy_lstm_cell``."""
    cell = numpy_lstm_cell(dtype, **bugs)

    def run(x: Any, hx: Any, params: dict[str, Any]) -> Any:
        h, c = hx[0][0], hx[1][0]
        w_hr = params.get("weight_hr_l0")
        outputs = []
        for t in range(x.shape[0]):
            if w_hr is not None and ignore_projection:
                h_in = np.zeros((h.shape[0], params["weight_hh_l0"].shape[1]), dtype=x.dtype)
                h_full, c = cell(x[t], (h_in, c), params, "_l0")
                h = h_full
            else:
                h_full, c = cell(x[t], (h, c), params, "_l0")
                h = (
                    h_full
                    if w_hr is None
                    else (h_full.astype(dtype) @ w_hr.astype(dtype).T).astype(x.dtype)
                )
            outputs.append(h)
        return np.stack(outputs), (h[None], c[None])

    return run


def numpy_gru_cell(
    dtype: Any = np.float64, *, reset_before: bool = False, order: str = "rzn"
) -> Callable[..., Any]:
    """A GRU cell in NumPy; ``reset_before`` plants the book/Cho variant instead of PyTorch's."""

    def cell(x: Any, h: Any, params: dict[str, Any], suffix: str = "") -> Any:
        p = {k: v.astype(dtype) for k, v in params.items()}
        xd, hd = x.astype(dtype), h.astype(dtype)
        m = p[f"weight_hh{suffix}"].shape[0] // 3
        zero = np.zeros(3 * m, dtype=dtype)
        b_ih, b_hh = p.get(f"bias_ih{suffix}", zero), p.get(f"bias_hh{suffix}", zero)
        gi = xd @ p[f"weight_ih{suffix}"].T + b_ih
        gh = hd @ p[f"weight_hh{suffix}"].T + b_hh
        gi_b = dict(zip(order, _gate_split(gi, 3), strict=True))
        gh_b = dict(zip(order, _gate_split(gh, 3), strict=True))
        r = _sigmoid(gi_b["r"] + gh_b["r"])
        z = _sigmoid(gi_b["z"] + gh_b["z"])
        if reset_before:
            w_hn = _gate_split(p[f"weight_hh{suffix}"].T, 3)[order.index("n")]
            n = np.tanh(gi_b["n"] + (r * hd) @ w_hn + _gate_split(b_hh, 3)[order.index("n")])
        else:
            n = np.tanh(gi_b["n"] + r * gh_b["n"])
        return ((1 - z) * n + z * hd).astype(x.dtype)

    return cell


def numpy_gru(dtype: Any = np.float64, **bugs: Any) -> Callable[..., Any]:
    cell = numpy_gru_cell(dtype, **bugs)

    def run(x: Any, h0: Any, params: dict[str, Any]) -> Any:
        h = h0[0]
        outputs = []
        for t in range(x.shape[0]):
            h = cell(x[t], h, params, "_l0")
            outputs.append(h)
        return np.stack(outputs), h[None]

    return run


def _failed(results: list[CheckResult]) -> dict[str, str]:
    return {r.check: r.failure.law for r in results if r.outcome is Outcome.FAIL and r.failure}


def kind_check(kind: kit.RecurrentKind) -> Callable[..., list[CheckResult]]:
    """The public check function of a kind."""
    checks: dict[str, Callable[..., list[CheckResult]]] = {
        "lstm_cell": kit.check_lstm_cell,
        "lstm": kit.check_lstm,
        "gru_cell": kit.check_gru_cell,
        "gru": kit.check_gru,
    }
    return checks[kind]


def _run(
    kind: kit.RecurrentKind, candidate: Callable[..., Any], precision: Any = "float64"
) -> list[CheckResult]:
    return kind_check(kind)(candidate, precision, max_examples=EXAMPLES, seed=1)


# --------------------------------------------------------------------------- correct ones pass


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("lstm_cell", numpy_lstm_cell),
        ("lstm", numpy_lstm),
        ("gru_cell", numpy_gru_cell),
        ("gru", numpy_gru),
    ],
)
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_correct_numpy_cells_pass(
    kind: kit.RecurrentKind, make: Callable[..., Any], precision: str
) -> None:
    """A straightforward NumPy LSTM/GRU computing in the declared dtype passes every check."""
    results = _run(kind, make(np.dtype(precision)), precision)
    assert not _failed(results), "\n".join(r.report() for r in results)


# --------------------------------------------------------------------------- the zoo

ZOO: list[tuple[str, kit.RecurrentKind, Callable[..., Any], str]] = [
    ("lstm gate order i,f,o,g", "lstm_cell", numpy_lstm_cell(order="ifog"), "lstm_cell.agrees"),
    ("lstm gate order f,i,g,o", "lstm", numpy_lstm(order="figo"), "lstm.agrees"),
    ("lstm bias_hh dropped", "lstm_cell", numpy_lstm_cell(drop_bias_hh=True), "lstm_cell.agrees"),
    ("lstm proj_size ignored", "lstm", numpy_lstm(ignore_projection=True), "lstm.proj_size"),
    (
        "gru reset before (book/Cho)",
        "gru_cell",
        numpy_gru_cell(reset_before=True),
        "gru_cell.agrees",
    ),
    ("gru reset before, sequence", "gru", numpy_gru(reset_before=True), "gru.agrees"),
    ("gru gate order z,r,n", "gru", numpy_gru(order="zrn"), "gru.agrees"),
]


@pytest.mark.parametrize(("bug", "kind", "candidate", "check"), ZOO, ids=[z[0] for z in ZOO])
def test_zoo_is_rejected(
    bug: str, kind: kit.RecurrentKind, candidate: Callable[..., Any], check: str
) -> None:
    """Each planted bug fails the named check, with a report that names the broken law."""
    failed = _failed(_run(kind, candidate))
    assert check in failed, f"{bug} was not rejected by {check}: {failed}"


def test_bias_dropped_passes_only_without_bias() -> None:
    """Dropping b_hh is invisible when there is no bias: no_bias passes, agrees fails."""
    failed = _failed(_run("lstm_cell", numpy_lstm_cell(drop_bias_hh=True)))
    assert "lstm_cell.no_bias" not in failed
    assert failed["lstm_cell.agrees"] == "differs from the reference"


@pytest.mark.parametrize("inner_precision", ["bfloat16", "float16"])
def test_float32_kernel_computing_in_lower_precision_is_rejected(inner_precision: str) -> None:
    """A 'float32' LSTM whose arithmetic is bfloat16/float16 in disguise exceeds the bound."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    low = ml_dtypes.bfloat16 if inner_precision == "bfloat16" else np.float16
    inner = numpy_lstm_cell(low)

    def disguised(x: Any, hx: Any, params: dict[str, Any]) -> Any:
        def down(a: Any) -> Any:
            return a.astype(low)

        h, c = inner(down(x), tuple(down(a) for a in hx), {k: down(v) for k, v in params.items()})
        return h.astype(np.float32), c.astype(np.float32)

    failed = _failed(_run("lstm_cell", disguised, "float32"))
    assert failed.get("lstm_cell.agrees") == "differs from the reference"


def test_failure_report_names_law_and_tolerance() -> None:
    """A failing row says the law, the tolerance's derivation and how to rerun it."""
    results = _run("gru_cell", numpy_gru_cell(reset_before=True))
    row = next(r for r in results if r.check == "gru_cell.agrees")
    text = row.report()
    assert "differs from the reference" in text
    assert "γ_K" in text
    assert "rerun" in text


def test_batch_consistency_catches_a_batch_dependent_cell() -> None:
    """A cell that normalises over the batch breaks batch consistency (and agreement)."""
    inner = numpy_lstm_cell()

    def batch_dependent(x: Any, hx: Any, params: dict[str, Any]) -> Any:
        h, c = inner(x - x.mean(axis=0) + x[:1], hx, params)
        return h, c

    failed = _failed(_run("lstm_cell", batch_dependent))
    assert failed.get("lstm_cell.batch_consistency") == "batch consistency"


def test_ranges_law_is_independent_of_the_reference() -> None:
    """h = tanh(c) without the output gate can reach |h| > 1? No: but 2·h breaks |h| ≤ 1."""
    inner = numpy_lstm_cell()

    def doubled(x: Any, hx: Any, params: dict[str, Any]) -> Any:
        h, c = inner(x, hx, params)
        return 2 * h, c

    failed = _failed(_run("lstm_cell", doubled))
    assert "lstm_cell.ranges" in failed


# --------------------------------------------------------------------------- bound honesty


@pytest.mark.parametrize("precision", ["float32", "float16"])
def test_bound_is_honest_and_within_a_stated_factor(precision: str) -> None:
    """On random cases our own LSTM/GRU in that dtype stay within the bound; not absurdly loose.

    Factor: the bound is at most 10⁴ × the largest observed error (a worst case over every
    rounding pattern, for n + m + 2 terms); see ``margins`` for the figures.
    """
    dtype = np.dtype(precision)
    worst_ratio, largest = 0.0, 0.0
    for seed in range(40):
        for kind, make in (("lstm", numpy_lstm), ("gru", numpy_gru)):
            shape = kit.RecurrentShape(4, 6, 0, 2, 4, True)
            case = kit._draw_case(kind, shape, seed, precision)  # type: ignore[arg-type]
            out, _, _ = kit._call(make(dtype), case, precision)  # type: ignore[arg-type]
            ref = kit.lstm_reference(case)[0] if kind == "lstm" else kit.gru_reference(case)[0]
            bound, _, _ = kit.sequence_bound(case, precision)  # type: ignore[arg-type]
            error = np.abs(out.astype(np.float64) - ref)
            worst_ratio = max(worst_ratio, float(np.max(error / bound)))
            largest = max(largest, float(np.max(error)))
    assert worst_ratio <= 1.0
    assert largest > 0
    assert worst_ratio > 1e-4


# --------------------------------------------------------------------------- expected differences


def test_tf32_difference_applies_only_to_cuda_float32() -> None:
    """The declared cuDNN TF32 difference excuses float32 on CUDA only, never on the CPU."""
    from impl.testing.torch_recurrent import TORCH_RECURRENT_EXPECTED

    entries = [e for e in TORCH_RECURRENT_EXPECTED if e.check == "lstm.agrees"]
    assert entries
    assert entries[0].applies("lstm.agrees", "float32", "cuda")
    assert not entries[0].applies("lstm.agrees", "float32", "cpu")
    assert not entries[0].applies("lstm.agrees", "bfloat16", "cuda")


def test_tf32_like_candidate_is_reported_as_expected_difference_on_cuda() -> None:
    """A float32 LSTM with TF32-rounded operands is EXPECTED on cuda and FAILs on the CPU."""
    from impl.testing.torch_recurrent import TORCH_RECURRENT_EXPECTED

    def tf32(a: Any) -> Any:
        bits = np.asarray(a, dtype=np.float32).view(np.uint32)
        return ((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(np.float32)

    inner = numpy_lstm(np.float32)

    def tf32_lstm(x: Any, hx: Any, params: dict[str, Any]) -> Any:
        rounded = {k: tf32(v) for k, v in params.items()}
        out, (h, c) = inner(tf32(x), (tf32(hx[0]), hx[1]), rounded)
        return out, (h, c)

    def outcome(device: str) -> Outcome:
        config = RunConfig(
            precision="float32",
            max_examples=EXAMPLES,
            seed=1,
            checks=("lstm.agrees",),
            device=device,
            expected=TORCH_RECURRENT_EXPECTED,
        )
        return kit._run("lstm", tf32_lstm, config)[0].outcome

    assert outcome("cpu") is Outcome.FAIL
    assert outcome("cuda") is Outcome.EXPECTED


def test_expected_difference_type_is_the_registry_one() -> None:
    from impl.testing.torch_recurrent import TORCH_RECURRENT_EXPECTED

    assert all(e.reason for e in TORCH_RECURRENT_EXPECTED)
    assert isinstance(TORCH_RECURRENT_EXPECTED[0], ExpectedDifference)


# --------------------------------------------------------------------------- PyTorch's modules


@pytest.mark.parametrize("kind", kit.RECURRENT_KINDS)
@pytest.mark.parametrize("precision", ["float64", "float32", "bfloat16"])
def test_torch_modules_pass(kind: kit.RecurrentKind, precision: str) -> None:
    """torch.nn.LSTM/LSTMCell/GRU/GRUCell pass every check (incl. parameter_count) on the CPU."""
    pytest.importorskip("torch")
    from impl.testing.torch_recurrent import torch_recurrent

    results = kind_check(kind)(torch_recurrent(kind, precision), precision, max_examples=6, seed=1)
    assert not _failed(results), "\n".join(r.report() for r in results)
    assert any(r.check == f"{kind}.parameter_count" for r in results)


def test_torch_module_instance_adapter() -> None:
    """An engineer's own nn.LSTM(proj_size=2, bias=False) instance is checked with its sizes."""
    torch = pytest.importorskip("torch")
    from impl.testing.torch_recurrent import from_torch_module

    module = torch.nn.LSTM(3, 5, proj_size=2, bias=False).double()
    candidate = from_torch_module(module, "lstm")
    results = _run("lstm", candidate)
    assert not _failed(results), "\n".join(r.report() for r in results)
    assert {r.check for r in results} >= {"lstm.proj_size", "lstm.no_bias"}


@pytest.mark.parametrize("precision", ["float64", "float32", "bfloat16"])
def test_torch_error_stays_within_the_bound(precision: Precision) -> None:
    """The experiment: torch's LSTM/GRU never exceed the bound (without the safety factor).

    Default size: 15 cases per kind; ``HYPOTHESIS_PROFILE=thorough``: 2500 per kind
    (10⁴ per precision). The figures (bound vs largest error) come from
    ``python -m impl.testing.torch_recurrent --cases N``.
    """
    pytest.importorskip("torch")
    from impl.testing.torch_recurrent import torch_recurrent

    for kind in kit.RECURRENT_KINDS:
        margin = kit.recurrent_margins(
            torch_recurrent(kind, precision), kind, precision, cases=MARGIN_CASES, seed=5
        )
        assert margin.worst_ratio <= 1.0, margin.row()
        assert margin.largest_error > 0 or precision == "float64", margin.row()


def test_downcast_kernel_exceeds_the_float32_bound() -> None:
    """Useful: a float32 GRU computing in bfloat16 exceeds the float32 bound × safety."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    inner = numpy_gru(np.float32)

    def disguised(x: Any, h0: Any, params: dict[str, Any]) -> Any:
        bf = ml_dtypes.bfloat16

        def down(a: Any) -> Any:
            return a.astype(bf).astype(np.float32)

        out, h = inner(down(x), down(h0), {k: down(v) for k, v in params.items()})
        return down(out), down(h)

    margin = kit.recurrent_margins(disguised, "gru", "float32", cases=MARGIN_CASES, seed=5)
    assert margin.worst_ratio > kit.SAFETY_FACTOR, margin.row()


def test_torch_module_adapter_names_what_it_cannot_check() -> None:
    """Two layers or batch_first are refused with a message naming the setting."""
    torch = pytest.importorskip("torch")
    from impl.testing.torch_recurrent import from_torch_module

    with pytest.raises(ValueError, match="num_layers=2"):
        from_torch_module(torch.nn.GRU(3, 4, num_layers=2), "gru")
    with pytest.raises(ValueError, match="batch_first=True"):
        from_torch_module(torch.nn.LSTM(3, 4, batch_first=True), "lstm")


def test_wrong_shape_is_a_named_failure_in_every_check() -> None:
    """A GRU returning (B, m) outputs without the step axis fails 'output shape', no crash."""
    inner = numpy_gru()

    def flat(x: Any, h0: Any, params: dict[str, Any]) -> Any:
        out, h = inner(x, h0, params)
        return out[-1], h

    results = _run("gru", flat)
    assert results
    assert all(r.failure is not None for r in results)
    assert {r.failure.law for r in results if r.failure} == {"output shape"}


# --------------------------------------------------------------------------- modules with sizes


class _Module:
    """A NumPy candidate dressed as an adapter of a module: its own sizes and parameter count."""

    def __init__(
        self,
        inner: Callable[..., Any],
        *,
        shape: kit.RecurrentShape | None = None,
        count: Callable[..., int] | None = None,
    ) -> None:
        self.inner = inner
        self.recurrent_shape = shape
        self.parameter_count = count

    def __call__(self, *args: Any) -> Any:
        return self.inner(*args)


def _lstm_count(input_size: int, hidden_size: int, proj_size: int, bias: bool) -> int:
    """nn.LSTM's parameters: W (4m, n), U (4m, r), two biases (4m,), W_hr (p, m); r = p or m."""
    state = proj_size or hidden_size
    biases = 2 * 4 * hidden_size if bias else 0
    return 4 * hidden_size * (input_size + state) + biases + proj_size * hidden_size


def _gru_count(input_size: int, hidden_size: int, proj_size: int, bias: bool) -> int:
    """nn.GRU's parameters: W (3m, n), U (3m, m), two biases (3m,); GRUs have no projection."""
    del proj_size
    return 3 * hidden_size * (input_size + hidden_size) + (2 * 3 * hidden_size if bias else 0)


COUNTED = [
    ("lstm_cell", numpy_lstm_cell, _lstm_count),
    ("lstm", numpy_lstm, _lstm_count),
    ("gru_cell", numpy_gru_cell, _gru_count),
    ("gru", numpy_gru, _gru_count),
]


@pytest.mark.parametrize(("kind", "make", "count"), COUNTED, ids=[c[0] for c in COUNTED])
def test_parameter_count_is_checked_for_adapters_that_count(
    kind: kit.RecurrentKind, make: Callable[..., Any], count: Callable[..., int]
) -> None:
    """An adapter with ``parameter_count`` gets the ``KIND.parameter_count`` row; a right count
    (written here from the shapes of PyTorch's state dict) passes it."""
    results = kind_check(kind)(_Module(make(), count=count), max_examples=EXAMPLES, seed=1)
    assert not _failed(results), "\n".join(r.report() for r in results)
    assert results[-1].check == f"{kind}.parameter_count"
    assert results[-1].outcome is Outcome.PASS


def test_parameter_count_without_the_projection_is_rejected_naming_the_sizes() -> None:
    """A count that forgets proj_size (U as (4m, m), no W_hr) fails on the first projected
    configuration; the report names the module's sizes as its keyword arguments."""

    def forgets_projection(input_size: int, hidden_size: int, proj_size: int, bias: bool) -> int:
        return _lstm_count(input_size, hidden_size, 0, bias)

    module = _Module(numpy_lstm(), count=forgets_projection)
    results = kit.check_lstm(module, checks=("lstm.parameter_count",))
    assert [r.check for r in results] == ["lstm.parameter_count"]
    failure = results[0].failure
    assert failure is not None
    assert failure.law == "parameter count"
    assert failure.inputs == {"input_size": 3, "hidden_size": 5, "proj_size": 2, "bias": True}
    assert failure.message == "200 parameters, the closed form gives 150"


def test_module_with_its_own_sizes_runs_only_the_checks_that_apply() -> None:
    """Fixed sizes without a projection and with biases: no proj_size and no no_bias rows (they
    would rerun ``agrees`` under a misleading name); the rest pass."""
    module = _Module(numpy_lstm(), shape=kit.RecurrentShape(3, 5, 0, bias=True))
    results = _run("lstm", module)
    assert not _failed(results), "\n".join(r.report() for r in results)
    assert [r.check for r in results] == [
        "lstm.agrees",
        "lstm.batch_consistency",
        "lstm.ranges",
        "lstm.final_state",
    ]


def test_module_with_a_projection_passes_every_check_including_the_projected_range() -> None:
    """nn.LSTM(3, 5, proj_size=2, bias=False) in NumPy: the fixed sizes reach the projected
    range law |h_j| ≤ Σ_k |W_hr[j, k]|, and a correct projected LSTM passes it."""
    module = _Module(numpy_lstm(), shape=kit.RecurrentShape(3, 5, 2, bias=False))
    results = _run("lstm", module)
    assert not _failed(results), "\n".join(r.report() for r in results)
    assert [r.check for r in results] == [
        "lstm.agrees",
        "lstm.no_bias",
        "lstm.proj_size",
        "lstm.batch_consistency",
        "lstm.ranges",
        "lstm.final_state",
    ]


def test_projected_state_out_of_range_breaks_the_projected_range_law() -> None:
    """A projected h a hundred times too large (a units slip) breaks |h_j| ≤ Σ_k |W_hr[j, k]|."""
    inner = numpy_lstm()

    def scaled(x: Any, hx: Any, params: dict[str, Any]) -> Any:
        out, (h, c) = inner(x, hx, params)
        return 100 * out, (100 * h, c)

    module = _Module(scaled, shape=kit.RecurrentShape(3, 5, 2, bias=False))
    failed = _failed(_run("lstm", module))
    assert failed.get("lstm.ranges") == "|h_j| ≤ Σ_k |W_hr[j, k]| (h = W_hr (o ⊙ tanh(c)))"


# --------------------------------------------------------------------------- the step bounds


@given(
    z=st.floats(-6.0, 6.0),
    ez=st.floats(0.0, 2.0),
    ez64=st.floats(0.0, 2.0),
    kind=st.sampled_from(["sigmoid", "tanh"]),
)
@example(z=2.0, ez=0.5, ez64=0.5, kind="sigmoid")
def test_activation_bound_covers_both_intervals(
    z: float, ez: float, ez64: float, kind: str
) -> None:
    """σ/tanh's bound (rounding off, u = 0) is L·e_z with L the largest slope on z ± (e_z +
    e_z64): the true pre-activation lies within e_z64 of our float64 z, the candidate's within
    e_z of the true one, so |f(ẑ) − f(z_true)| ≤ L e_z at every extreme placement."""
    f = (lambda t: 0.5 * (1.0 + np.tanh(0.5 * t))) if kind == "sigmoid" else np.tanh
    _, error = kit._activation(
        np.array([z]),
        np.array([ez]),
        np.array([ez64]),
        0.0,
        0.0,
        kind,  # type: ignore[arg-type]
    )
    for z_true in (z - ez64, z + ez64):
        for z_hat in (z_true - ez, z_true + ez):
            # + 1e-15: our own float64 evaluation of f at two points (|f| ≤ 1, a few ulps).
            assert abs(f(z_hat) - f(z_true)) <= error[0] + 1e-15


@pytest.mark.parametrize(
    ("kind", "proj_size"), [("lstm_cell", 0), ("lstm", 2), ("gru_cell", 0), ("gru", 0)]
)
def test_step_bounds_follow_the_reference_trajectory(
    kind: kit.RecurrentKind, proj_size: int
) -> None:
    """The bound is evaluated along the cell's own trajectory: the values (h, c) that
    ``lstm_step_bound``/``gru_step_bound`` carry from step to step are the reference's."""
    suffix = "" if kind.endswith("cell") else "_l0"
    u, ulps = unit_roundoff("float32"), kit._function_ulps("float32")
    for seed in range(3):
        shape = kit.RecurrentShape(4, 5, proj_size, batch=2, steps=4, bias=seed != 1)
        case = kit._draw_case(kind, shape, seed, "float32")
        xs = case.x[None] if kind.endswith("cell") else case.x
        h, c = case.h, case.c
        ref_c = None
        if kind.startswith("lstm"):
            ref_out, _, ref_c = kit.lstm_reference(case)
        else:
            ref_out, _ = kit.gru_reference(case)
        for t in range(xs.shape[0]):
            eh = np.zeros_like(h)
            if c is not None:
                step = kit.lstm_step_bound(
                    xs[t], h, c, eh, np.zeros_like(c), case.params, suffix, u, ulps
                )
            else:
                step = kit.gru_step_bound(xs[t], h, eh, case.params, suffix, u, ulps)
            h, c = step.h, step.c
            # atol: the same float64 formulas in another order: γ_K Σ|terms| with K ≤ n + m + 2
            # and terms of a few units is ~1e-14.
            np.testing.assert_allclose(h, ref_out[t], rtol=0, atol=1e-12)
        if c is not None:
            assert ref_c is not None
            np.testing.assert_allclose(c, ref_c, rtol=0, atol=1e-12)


def test_lstm_step_bound_at_zero_weights_is_exact_and_finite() -> None:
    """All-zero parameters: every gate pre-activation is exactly 0, so i = f = o = ½ and g = 0,
    c' = c/2 and h' = tanh(c/2)/2 exactly; the bound on c' is f c's roundings alone (σ(0)
    within γ_c relative, one product, one sum), finite although g = 0."""
    m, n = 3, 2
    params = {
        "weight_ih": np.zeros((4 * m, n)),
        "weight_hh": np.zeros((4 * m, m)),
        "bias_ih": np.zeros(4 * m),
        "bias_hh": np.zeros(4 * m),
    }
    rng = np.random.default_rng(4)
    x, h, c = rng.normal(size=(2, n)), rng.uniform(-1, 1, (2, m)), rng.normal(size=(2, m))
    u, ulps = unit_roundoff("float32"), kit._function_ulps("float32")
    step = kit.lstm_step_bound(x, h, c, np.zeros_like(h), np.zeros_like(c), params, "", u, ulps)
    assert step.c is not None
    assert step.error_c is not None
    np.testing.assert_array_equal(step.c, c / 2)
    np.testing.assert_array_equal(step.h, np.tanh(c / 2) / 2)
    assert np.all(step.error_c <= (rules.gamma(ulps, u) + 2 * u) * np.abs(c))


# --------------------------------------------------------------------------- margins


def test_margins_draw_the_documented_sizes_and_report_the_worst_entry() -> None:
    """``recurrent_margins`` draws n ∈ [1, 16], m ∈ [1, 32], batch ∈ [1, 4] (its docstring),
    and its worst entry is consistent: error_at_worst / bound_at_worst = worst_ratio."""
    inner = numpy_gru_cell(np.float32)
    seen: list[tuple[int, int, int]] = []

    def recording(x: Any, h: Any, params: dict[str, Any]) -> Any:
        seen.append((x.shape[0], x.shape[1], h.shape[1]))
        return inner(x, h, params)

    margin = kit.recurrent_margins(recording, "gru_cell", "float32", cases=40, seed=0)
    batches, inputs, hidden = (sorted({s[k] for s in seen}) for k in range(3))
    assert batches == [1, 2, 3, 4]
    assert inputs[0] >= 1
    assert inputs[-1] <= 16
    assert hidden[0] >= 1
    assert hidden[-1] <= 32
    assert margin.cases == 40
    assert 0 < margin.worst_ratio <= 1
    assert margin.error_at_worst > 0
    assert margin.error_at_worst / margin.bound_at_worst == pytest.approx(margin.worst_ratio)
    assert margin.largest_error >= margin.error_at_worst
