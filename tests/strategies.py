"""Re-export shim: the strategies now ship as ``impl.testing.strategies`` (remove after merge)."""

from impl.testing.strategies import *  # noqa: F403
from impl.testing.strategies import __all__ as __all__
