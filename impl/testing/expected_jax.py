"""Expected differences of JAX's attention kernels from nndl8, each with its reason.

Each entry is tested in ``tests/test_kit_expected.py`` (skipped without jax): the
test shows the difference exists, for the reason given.
"""

from impl.testing.attention import SDPA_CHECKS
from impl.testing.registry import ExpectedDifference

__all__ = ["JAX_ATTENTION_EXPECTED", "JAX_FLOAT32_SOFTMAX", "JAX_MASKED_MEAN", "JAX_NEG_INF_NAN"]

JAX_MASKED_MEAN = (
    "jax.nn.dot_product_attention fills masked scores with the dtype's most negative finite "
    "number instead of −inf, so a query whose every key is masked gets a uniform softmax and "
    "outputs the mean of V; nndl8 (like PyTorch ≥ 2.5) outputs 0 there."
)
JAX_NEG_INF_NAN = (
    "jax.nn.dot_product_attention adds a float bias as given: a row that is −inf everywhere "
    "is a softmax of all −inf, 0/0 = NaN; nndl8 (like PyTorch ≥ 2.5) outputs 0 there."
)
JAX_FLOAT32_SOFTMAX = (
    "jax.nn.dot_product_attention computes its softmax in float32 even for float64 inputs "
    "under jax_enable_x64 (the logits are cast to float32 and back), so float64 results carry "
    "float32 rounding (~1e-8) far beyond the float64 bound; check it with --dtype float32."
)

JAX_ATTENTION_EXPECTED: tuple[ExpectedDifference, ...] = (
    ExpectedDifference("sdpa.fully_masked_rows", JAX_MASKED_MEAN),
    ExpectedDifference("sdpa.fully_masked_float_rows", JAX_NEG_INF_NAN),
    *(
        ExpectedDifference(check, JAX_FLOAT32_SOFTMAX, precisions=("float64",))
        for check in SDPA_CHECKS
        if not check.startswith("sdpa.fully_masked")
    ),
)
"""The declared differences of jax.nn.softmax, jax.nn.log_softmax and
jax.nn.dot_product_attention (the softmax functions have none)."""
