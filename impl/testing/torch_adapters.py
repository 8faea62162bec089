"""PyTorch adapters for the attention checks: softmax, log_softmax, SDPA, nn.MultiheadAttention.

Each adapter is a candidate in ``impl.testing.attention``'s convention on NumPy
arrays: it moves the arrays to a tensor of the declared precision on the run's
device (``cpu`` or ``cuda``; bfloat16 passes through float32 exactly), calls
the PyTorch kernel under ``no_grad``, and moves the result back to the host in
the same precision, so the comparison always happens on the host in float64.

torch is imported lazily: without it ``make`` raises ``ImportError`` and the CLI
reports the target as unavailable. The declared differences of these kernels
are in ``impl.testing.expected_torch``.
"""

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from impl.testing.expected_torch import TORCH_ATTENTION_EXPECTED
from impl.testing.references import MultiheadParameters
from impl.testing.registry import RunConfig, Target, register_target
from impl.testing.tolerances import precision_dtype

__all__ = [
    "from_torch",
    "to_torch",
    "torch_log_softmax",
    "torch_multihead_attention",
    "torch_sdpa",
    "torch_softmax",
]


def _torch() -> Any:
    # Imported by name: torch is optional (only these targets need it), and mypy
    # must pass on machines without it.
    return importlib.import_module("torch")


def to_torch(x: NDArray[Any] | None, device: str = "cpu") -> Any:
    """A NumPy array as a tensor of the same precision on ``device`` (bfloat16 exactly)."""
    if x is None:
        return None
    torch = _torch()
    a = np.asarray(x)
    if a.dtype.name == "bfloat16":
        return torch.from_numpy(a.astype(np.float32)).to(device=device, dtype=torch.bfloat16)
    return torch.from_numpy(np.ascontiguousarray(a)).to(device)


def from_torch(t: Any) -> NDArray[Any]:
    """A tensor as a host NumPy array of the same precision (bfloat16 via ml_dtypes, exactly)."""
    torch = _torch()
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        result: NDArray[Any] = t.float().numpy().astype(precision_dtype("bfloat16"))
        return result
    array: NDArray[Any] = t.numpy()
    return array


def torch_softmax(config: RunConfig) -> Callable[..., Any]:
    """``torch.softmax(x, dim=-1)`` as a ``softmax`` candidate."""
    torch = _torch()

    def candidate(x: NDArray[Any]) -> NDArray[Any]:
        with torch.no_grad():
            return from_torch(torch.softmax(to_torch(x, config.device), dim=-1))

    return candidate


def torch_log_softmax(config: RunConfig) -> Callable[..., Any]:
    """``torch.log_softmax(x, dim=-1)`` as a ``log_softmax`` candidate."""
    torch = _torch()

    def candidate(x: NDArray[Any]) -> NDArray[Any]:
        with torch.no_grad():
            return from_torch(torch.log_softmax(to_torch(x, config.device), dim=-1))

    return candidate


def torch_sdpa(config: RunConfig) -> Callable[..., Any]:
    """``torch.nn.functional.scaled_dot_product_attention`` as an ``sdpa`` candidate."""
    torch = _torch()
    device = config.device

    def candidate(
        query: NDArray[Any],
        key: NDArray[Any],
        value: NDArray[Any],
        attn_mask: NDArray[Any] | None = None,
        dropout_p: float = 0.0,
        is_causal: bool = False,
        scale: float | None = None,
        enable_gqa: bool = False,
    ) -> NDArray[Any]:
        with torch.no_grad():
            out = torch.nn.functional.scaled_dot_product_attention(
                to_torch(query, device),
                to_torch(key, device),
                to_torch(value, device),
                attn_mask=to_torch(attn_mask, device),
                dropout_p=dropout_p,
                is_causal=is_causal,
                scale=scale,
                enable_gqa=enable_gqa,
            )
        return from_torch(out)

    return candidate


def _set(parameter: Any, value: NDArray[Any] | None, device: str) -> None:
    if parameter is not None and value is not None:
        parameter.copy_(to_torch(value, device).reshape(parameter.shape))


def torch_multihead_attention(config: RunConfig) -> Callable[..., Any]:
    """``nn.MultiheadAttention(batch_first=True)``, built from the case's parameters, as an ``mha``
    candidate (eval mode, dropout 0)."""
    torch = _torch()
    device = config.device

    def candidate(
        query: NDArray[Any],
        key: NDArray[Any],
        value: NDArray[Any],
        params: MultiheadParameters,
        *,
        key_padding_mask: NDArray[Any] | None = None,
        need_weights: bool = True,
        attn_mask: NDArray[Any] | None = None,
        average_attn_weights: bool = True,
    ) -> tuple[NDArray[Any], NDArray[Any] | None]:
        q = to_torch(query, device)
        module = torch.nn.MultiheadAttention(
            params.embed_dim,
            params.num_heads,
            bias=params.in_proj_bias is not None,
            add_bias_kv=params.bias_k is not None,
            add_zero_attn=params.add_zero_attn,
            kdim=params.kdim,
            vdim=params.vdim,
            batch_first=True,
            device=device,
            dtype=q.dtype,
        ).eval()
        with torch.no_grad():
            _set(module.in_proj_weight, params.in_proj_weight, device)
            _set(module.q_proj_weight, params.q_proj_weight, device)
            _set(module.k_proj_weight, params.k_proj_weight, device)
            _set(module.v_proj_weight, params.v_proj_weight, device)
            _set(module.in_proj_bias, params.in_proj_bias, device)
            _set(module.out_proj.weight, params.out_proj_weight, device)
            _set(module.out_proj.bias, params.out_proj_bias, device)
            _set(module.bias_k, params.bias_k, device)
            _set(module.bias_v, params.bias_v, device)
            out, weights = module(
                q,
                to_torch(key, device),
                to_torch(value, device),
                key_padding_mask=to_torch(key_padding_mask, device),
                need_weights=need_weights,
                attn_mask=to_torch(attn_mask, device),
                average_attn_weights=average_attn_weights,
            )
        return from_torch(out), None if weights is None else from_torch(weights)

    return candidate


for _kind, _label, _make in (
    ("softmax", "torch.softmax", torch_softmax),
    ("log_softmax", "torch.log_softmax", torch_log_softmax),
    ("sdpa", "torch.nn.functional.scaled_dot_product_attention", torch_sdpa),
    ("mha", "torch.nn.MultiheadAttention", torch_multihead_attention),
):
    register_target(
        Target(
            "torch",
            _kind,
            _label,
            _make,
            expected=TORCH_ATTENTION_EXPECTED,
            layout="BLE" if _kind == "mha" else "BHLE",
        )
    )
