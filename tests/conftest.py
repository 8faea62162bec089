"""Hypothesis profiles: a quick default for local runs, a thorough one for CI.

* ``dev`` (default): 50 examples per property, random seeds, so local runs of
  ``make test`` stay within a couple of minutes on 2 cores.
* ``ci`` (loaded when ``CI=true``, as CI sets it): 300 examples per property,
  derandomized so a CI run is reproducible, no deadline (shared CI machines
  have noisy timing; speed is measured by ``make bench``, not by tests).
* ``thorough``: 2000 examples, for a long local hunt
  (``HYPOTHESIS_PROFILE=thorough make pytest``).
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=300,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

settings.register_profile(
    "mutation",
    max_examples=50,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

_default = "ci" if os.environ.get("CI", "").lower() in {"1", "true", "yes"} else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))
