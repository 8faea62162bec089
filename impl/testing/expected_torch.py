"""Expected differences of PyTorch's attention kernels from nndl8, each with its reason.

Each entry is tested in ``tests/test_kit_expected.py``: the difference is shown
to exist (the check fails on PyTorch for the stated reason), so an entry that
PyTorch fixes is noticed ("declared expected difference not observed").
"""

from impl.testing.registry import ExpectedDifference

__all__ = ["TORCH_ATTENTION_EXPECTED"]

TORCH_ATTENTION_EXPECTED: tuple[ExpectedDifference, ...] = (
    ExpectedDifference(
        "mha.fully_padded_rows",
        "nn.MultiheadAttention with need_weights=True computes its weights with an explicit "
        "softmax over a row that is −inf everywhere, which is 0/0 = NaN, and NaN spreads to the "
        "output; nndl8 (like F.scaled_dot_product_attention since PyTorch 2.5) gives such a query "
        "attention 0, so its output is the output projection's bias.",
    ),
)
"""The declared differences of torch.softmax, torch.log_softmax,
F.scaled_dot_product_attention and nn.MultiheadAttention."""
