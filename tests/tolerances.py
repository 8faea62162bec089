"""Re-export shim: the tolerances now ship as ``impl.testing.tolerances`` (remove after merge)."""

from impl.testing.tolerances import *  # noqa: F403
from impl.testing.tolerances import __all__ as __all__
