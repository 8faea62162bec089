r"""PyTorch as a modern Hopfield update: ``F.scaled_dot_product_attention`` with scale β.

Book: §8.6.2 note — the modern Hopfield update ξ_new = Xᵀ softmax(β X ξ) *is*
attention with the state as the query, the patterns as keys and values, and
scale β. PyTorch has no Hopfield layer, but its attention kernel computes
exactly this update; registering it as the ``torch`` target of the
``modern_hopfield`` kind lets ``nndl8 conformance torch`` check that bridge on
PyTorch's own kernel (CPU or CUDA, any precision). Discrete Hopfield networks
and the NTM have no framework counterpart (their kinds take a user's function).

Expected differences: none declared (``TORCH_MEMORY_EXPECTED`` is empty; the
SDPA kernel's own differences, e.g. fully masked rows, cannot arise here: there
is no mask).
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from impl.testing.registry import ExpectedDifference, RunConfig, Target, register_target

__all__ = ["TORCH_MEMORY_EXPECTED", "torch_modern_hopfield"]

TORCH_MEMORY_EXPECTED: tuple[ExpectedDifference, ...] = ()
"""No declared differences: PyTorch's SDPA as a Hopfield update passes in every precision."""


def torch_modern_hopfield(precision: str, device: str = "cpu") -> Callable[..., NDArray[Any]]:
    """``candidate(states (B, D), patterns (B, N, D), beta) -> (B, D)`` through torch's SDPA."""
    import torch  # optional extra

    dtype = {
        "float64": torch.float64,
        "float32": torch.float32,
        "float16": torch.float16,
        "bfloat16": torch.bfloat16,
    }[precision]

    def to_torch(a: NDArray[Any]) -> Any:
        host = np.ascontiguousarray(a.astype(np.float32) if a.dtype.name == "bfloat16" else a)
        return torch.from_numpy(host).to(device=device, dtype=dtype)

    def update(states: NDArray[Any], patterns: NDArray[Any], beta: float) -> NDArray[Any]:
        q = to_torch(states)[:, None, :]  # one query per state
        x = to_torch(patterns)
        with torch.no_grad():
            out = torch.nn.functional.scaled_dot_product_attention(q, x, x, scale=float(beta))
        host = out[:, 0, :].detach().to("cpu")
        if states.dtype.name == "bfloat16":
            result: NDArray[Any] = host.float().numpy().astype(states.dtype)
            return result
        array: NDArray[Any] = host.numpy()
        return array

    return update


def _make(config: RunConfig) -> Callable[..., Any]:
    return torch_modern_hopfield(config.precision, config.device)


register_target(
    Target(
        framework="torch",
        kind="modern_hopfield",
        label="F.scaled_dot_product_attention (scale β)",
        make=_make,
        expected=TORCH_MEMORY_EXPECTED,
        layout="none",
    )
)
