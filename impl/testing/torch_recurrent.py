r"""PyTorch adapters for the recurrent checks: nn.LSTMCell, nn.LSTM, nn.GRUCell, nn.GRU.

Each adapter is a candidate in ``impl.testing.recurrent``'s convention
``candidate(input, hx, params)``: it builds the module of the sizes the
``params`` imply (``proj_size`` from ``weight_hr_l0``, ``bias=False`` when the
biases are absent), in the declared precision and on the run's device, loads
the arrays with ``load_state_dict`` (exact: they are representable in that
dtype, bfloat16 passes through float32 exactly), runs it under ``no_grad``,
and moves the outputs to the host in the same dtype. ``parameter_count``
counts a module's parameters for the ``parameter_count`` check.
``from_torch_module(module)`` wraps an engineer's own module instance: its
sizes are fixed, the checks draw only batch, steps and values.

Expected differences (``TORCH_RECURRENT_EXPECTED``), each with its reason and
its test in ``tests/test_kit_recurrent.py``: see the tuple below.

torch is imported lazily; without it ``make`` raises ``ImportError`` and the
CLI reports the target as unavailable.
"""

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from impl.testing.recurrent import RECURRENT_KINDS, RecurrentKind, RecurrentShape
from impl.testing.registry import ExpectedDifference, RunConfig, Target, register_target

__all__ = [
    "TORCH_RECURRENT_EXPECTED",
    "TorchRecurrent",
    "from_torch_module",
    "torch_recurrent",
]

_MODULES: dict[RecurrentKind, str] = {
    "lstm_cell": "LSTMCell",
    "lstm": "LSTM",
    "gru_cell": "GRUCell",
    "gru": "GRU",
}

_TF32_REASON = (
    "on CUDA, float32 matrix products inside cuDNN's RNN kernels may run on TF32 tensor cores "
    "(10-bit significand, u = 2⁻¹¹) while torch.backends.cudnn.allow_tf32 is True, its default; "
    "the float32 bound assumes u = 2⁻²⁴. Set torch.backends.cudnn.allow_tf32 = False for float32 "
    "arithmetic, or declare --dtype float16 to check the TF32 accuracy."
)

TORCH_RECURRENT_EXPECTED: tuple[ExpectedDifference, ...] = tuple(
    ExpectedDifference(f"{kind}.{check}", _TF32_REASON, precisions=("float32",), devices=("cuda",))
    for kind in ("lstm", "gru")
    for check in ("agrees", "no_bias", "proj_size", "batch_consistency")
)
"""Declared differences of torch.nn's recurrent modules from nndl8 (CPU: none observed in
float64, float32, float16, bfloat16 — PyTorch's LSTM/GRU have exactly the reset-after GRU and
the i, f, g, o gate order of ``impl.recurrent``)."""


def _torch() -> Any:
    import torch  # optional extra: imported only when an adapter is used

    return torch


def _torch_dtype(precision: str) -> Any:
    torch = _torch()
    return {
        "float64": torch.float64,
        "float32": torch.float32,
        "float16": torch.float16,
        "bfloat16": torch.bfloat16,
    }[precision]


def _to_torch(a: NDArray[Any], dtype: Any, device: str) -> Any:
    torch = _torch()
    host = np.ascontiguousarray(a.astype(np.float32) if a.dtype.name == "bfloat16" else a)
    return torch.from_numpy(host).to(device=device, dtype=dtype)


def _to_numpy(t: Any, like: np.dtype[Any]) -> NDArray[Any]:
    host = t.detach().to("cpu")
    if like.name == "bfloat16":
        result: NDArray[Any] = host.float().numpy().astype(like)  # exact: bf16 ⊂ float32
        return result
    array: NDArray[Any] = host.numpy()
    return array


def _sizes(kind: RecurrentKind, params: Mapping[str, NDArray[Any]]) -> tuple[int, int, int, bool]:
    suffix = "" if kind.endswith("cell") else "_l0"
    w_ih = params[f"weight_ih{suffix}"]
    gates = 4 if kind.startswith("lstm") else 3
    m = w_ih.shape[0] // gates
    w_hr = params.get(f"weight_hr{suffix}")
    p = 0 if w_hr is None else int(w_hr.shape[0])
    return int(w_ih.shape[1]), int(m), p, f"bias_ih{suffix}" in params


class TorchRecurrent:
    """A torch.nn recurrent module class as a candidate (see the module docstring)."""

    def __init__(
        self, kind: RecurrentKind, precision: str, device: str = "cpu", module: Any = None
    ) -> None:
        self.kind = kind
        self.precision = precision
        self.device = device
        self.module = module
        if module is not None:
            layers = int(getattr(module, "num_layers", 1))
            if layers != 1 or getattr(module, "bidirectional", False):
                raise ValueError(
                    f"module has num_layers={layers}, "
                    f"bidirectional={getattr(module, 'bidirectional', False)}; the recurrent "
                    "checks cover one layer in one direction (check each layer on its own)"
                )
            if getattr(module, "batch_first", False):
                raise ValueError(
                    "module has batch_first=True; the lstm/gru kinds use (T, B, n): build the "
                    "module with batch_first=False (the same weights) to check it"
                )
            self.recurrent_shape = RecurrentShape(
                input_size=int(module.input_size),
                hidden_size=int(module.hidden_size),
                proj_size=int(getattr(module, "proj_size", 0)),
                bias=bool(module.bias),
            )

    def _build(self, n: int, m: int, p: int, bias: bool) -> Any:
        torch = _torch()
        cls = getattr(torch.nn, _MODULES[self.kind])
        options: dict[str, Any] = {"bias": bias}
        if p:
            options["proj_size"] = p
        return cls(n, m, **options)

    def parameter_count(
        self, *, input_size: int, hidden_size: int, proj_size: int, bias: bool
    ) -> int:
        """Number of scalars in the module's parameters for these sizes."""
        module = self._build(input_size, hidden_size, proj_size, bias)
        return int(sum(p.numel() for p in module.parameters()))

    def __call__(self, x: NDArray[Any], hx: Any, params: Mapping[str, NDArray[Any]]) -> Any:
        """Run the module on the host arrays; return its outputs on the host, same dtype."""
        torch = _torch()
        dtype = _torch_dtype(self.precision)
        n, m, p, bias = _sizes(self.kind, params)
        if self.module is not None:
            module = self.module
        else:
            module = self._build(n, m, p, bias).to(device=self.device, dtype=dtype)
        like = x.dtype

        def t(a: NDArray[Any]) -> Any:
            return _to_torch(a, dtype, self.device)

        with torch.no_grad():
            if self.module is None:
                module.load_state_dict({k: t(v) for k, v in params.items()})
                out = module(t(x), (t(hx[0]), t(hx[1])) if isinstance(hx, tuple) else t(hx))
            else:
                state = {k: t(v) for k, v in params.items()}
                call = torch.func.functional_call
                args = ((t(hx[0]), t(hx[1])) if isinstance(hx, tuple) else t(hx),)
                out = call(module, state, (t(x), *args))
        return _back(out, like)


def _back(out: Any, like: np.dtype[Any]) -> Any:
    if isinstance(out, tuple):
        return tuple(_back(o, like) for o in out)
    return _to_numpy(out, like)


def torch_recurrent(
    kind: RecurrentKind, precision: str = "float64", device: str = "cpu"
) -> TorchRecurrent:
    """The torch.nn module class of ``kind`` as a candidate in the declared precision."""
    return TorchRecurrent(kind, precision, device)


def from_torch_module(
    module: Any, kind: RecurrentKind, precision: str = "float64"
) -> TorchRecurrent:
    """An engineer's own nn.LSTM/LSTMCell/GRU/GRUCell instance as a candidate (sizes fixed)."""
    device = str(next(module.parameters()).device)
    return TorchRecurrent(kind, precision, device, module=module)


def _maker(kind: RecurrentKind) -> Callable[[RunConfig], Callable[..., Any]]:
    def make(config: RunConfig) -> Callable[..., Any]:
        _torch()
        return TorchRecurrent(kind, config.precision, config.device)

    return make


for _kind in RECURRENT_KINDS:
    register_target(
        Target(
            framework="torch",
            kind=_kind,
            label=f"torch.nn.{_MODULES[_kind]}",
            make=_maker(_kind),
            expected=TORCH_RECURRENT_EXPECTED,
            layout="TBE",
        )
    )


def margin_rows(device: str, precision: str, cases: int, seed: int) -> Iterator[Any]:
    """Rows for ``nndl8 conformance torch --margins`` (``impl.testing.margins.Row``).

    One row per recurrent kind: torch's module against the bound × ``SAFETY_FACTOR``
    (the table's convention), ``cases`` random cases of ``recurrent_margins``.
    """
    from impl.testing.margins import Margin, Row
    from impl.testing.recurrent import SAFETY_FACTOR, recurrent_margins
    from impl.testing.tolerances import as_precision

    name = as_precision(precision)
    for kind in RECURRENT_KINDS:
        m = recurrent_margins(
            TorchRecurrent(kind, name, device), kind, name, cases=cases, seed=seed
        )
        margin = Margin(
            worst=m.worst_ratio / SAFETY_FACTOR,
            error=m.error_at_worst,
            tolerance=SAFETY_FACTOR * m.bound_at_worst,
            largest_error=m.largest_error,
            cases=cases,
        )
        yield Row("torch", name, kind, margin)
    if name != "float32":
        return
    for inner in ("float16", "bfloat16"):  # planted: declared float32, computed lower
        for kind in ("lstm", "gru"):
            planted = _Downcast(TorchRecurrent(kind, inner, device), inner)
            m = recurrent_margins(planted, kind, name, cases=max(cases // 2, 10), seed=seed)
            margin = Margin(
                worst=m.worst_ratio / SAFETY_FACTOR,
                error=m.error_at_worst,
                tolerance=SAFETY_FACTOR * m.bound_at_worst,
                largest_error=m.largest_error,
                cases=m.cases,
            )
            yield Row(f"torch in {inner}", name, kind, margin)


class _Downcast:
    """A module run in a lower precision, presented as float32 (a planted wrong kernel)."""

    def __init__(self, inner: TorchRecurrent, precision: str) -> None:
        self.inner = inner
        self.dtype = np.dtype(np.float16) if precision == "float16" else _bfloat16()

    def __call__(self, x: NDArray[Any], hx: Any, params: Mapping[str, NDArray[Any]]) -> Any:
        def down(a: Any) -> Any:
            return tuple(down(b) for b in a) if isinstance(a, tuple) else a.astype(self.dtype)

        def up(a: Any) -> Any:
            return tuple(up(b) for b in a) if isinstance(a, tuple) else a.astype(np.float32)

        return up(self.inner(down(x), down(hx), {k: down(v) for k, v in params.items()}))


def _bfloat16() -> np.dtype[Any]:
    from impl.testing.tolerances import precision_dtype

    return precision_dtype("bfloat16")


def margins(argv: list[str] | None = None) -> int:
    """Print bound vs largest observed error of torch's LSTM/GRU per kind and precision.

    ``python -m impl.testing.torch_recurrent [--cases N] [--device cuda] [--seed S]
    [--precision P ...]``: N random cases per kind and precision (default 200).
    """
    import argparse

    from impl.testing.recurrent import recurrent_margins

    parser = argparse.ArgumentParser(prog="python -m impl.testing.torch_recurrent")
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--precision", nargs="*", default=["float64", "float32", "float16", "bfloat16"]
    )
    args = parser.parse_args(argv)
    worst = 0.0
    for precision in args.precision:
        for kind in RECURRENT_KINDS:
            candidate = TorchRecurrent(kind, precision, args.device)
            margin = recurrent_margins(candidate, kind, precision, cases=args.cases, seed=args.seed)
            worst = max(worst, margin.worst_ratio)
            print(f"{args.device:5} {margin.row()}", flush=True)
    print(f"largest error/bound over all rows: {worst:.3g} (≤ 1: the bound held)")
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    import sys
    import warnings

    warnings.filterwarnings("ignore", message="LSTM with projections")
    sys.exit(margins())
