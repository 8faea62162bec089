"""How checks are declared and found: kinds (calling conventions), targets (framework kernels).

A **kind** is a calling convention with its suite of checks, e.g. ``sdpa``
(PyTorch's ``scaled_dot_product_attention`` signature on NumPy arrays) or
``softmax``. Its ``run(candidate, config)`` runs every check of the suite on a
candidate that follows the convention and returns one ``CheckResult`` per check.

A **target** is one framework's kernel for a kind (``torch`` +
``sdpa`` → ``torch.nn.functional.scaled_dot_product_attention``): ``make(config)``
builds the candidate (importing the framework lazily, moving tensors to
``config.device``), and ``expected`` lists the differences the framework is known
to have from nndl8, each with its reason; a check that fails and is listed there
is reported as an expected difference, never skipped.

A family module registers its kinds and targets at import time::

    from impl.testing.registry import Kind, Target, register_kind, register_target

    register_kind(Kind("lstm_cell", "torch.nn.LSTMCell's signature", run_lstm_cell))
    register_target(Target("torch", "lstm_cell", "torch.nn.LSTMCell", make_torch_lstm_cell,
                           expected=TORCH_EXPECTED))

and is listed in ``FAMILY_MODULES`` so that ``nndl8 conformance`` imports it.
"""

import importlib
import importlib.util
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from impl.testing.tolerances import Precision, as_precision

__all__ = [
    "FAMILY_MODULES",
    "ExpectedDifference",
    "Kind",
    "RunConfig",
    "Target",
    "kinds",
    "load_families",
    "register_kind",
    "register_target",
    "targets",
]

FAMILY_MODULES: tuple[str, ...] = (
    "impl.testing.attention",
    "impl.testing.recurrent",
    "impl.testing.memory",
    "impl.testing.torch_adapters",
    "impl.testing.jax_adapters",
    "impl.testing.torch_recurrent",
    "impl.testing.torch_memory",
    "impl.testing.backward",
)
"""Modules that register kinds and targets; those not present are skipped."""


@dataclass(frozen=True)
class ExpectedDifference:
    """A known, accepted difference of a framework's kernel from nndl8.

    ``check`` is the check id it excuses (``sdpa.fully_masked_rows``);
    ``reason`` says what the framework does and why it is accepted;
    ``precisions`` restricts it to some precisions (empty: all);
    ``devices`` likewise to some devices (empty: all).
    """

    check: str
    reason: str
    precisions: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()

    def applies(self, check: str, precision: str, device: str) -> bool:
        """Whether this entry excuses ``check`` run in ``precision`` on ``device``."""
        return (
            self.check == check
            and (not self.precisions or precision in self.precisions)
            and (not self.devices or device in self.devices)
        )


@dataclass(frozen=True)
class RunConfig:
    """How to run a suite: the candidate's declared precision and layout, and the run's settings.

    ``precision``: what the candidate computes in (inputs are handed to it in
    that dtype; its tolerance is derived for it). ``layout``: how it lays out
    multi-head arrays (``BHLE`` for PyTorch's (B, H, L, E), ``BLHE`` for JAX's
    BTNH). ``max_examples`` per check, ``seed`` for hypothesis (same seed, same
    examples), ``checks``: run only these ids (empty: all). ``label`` names the
    candidate in reports; ``command`` is the shell command that started the run
    (for "rerun:" lines); ``expected`` the declared differences; ``device`` where
    a framework adapter runs (``cpu``, ``cuda``); ``safety`` multiplies every
    derived bound (see ``impl.testing.bounds.SAFETY_FACTOR``); ``restrictions``
    narrow what is drawn to what a target's API accepts (e.g.
    ``"value_dim=key_dim"`` for JAX's attention, whose values must have the
    queries' width) — an API limit, not a numerical difference.
    """

    precision: Precision = "float64"
    layout: str = "BHLE"
    max_examples: int = 40
    seed: int = 0
    checks: tuple[str, ...] = ()
    label: str = "candidate"
    command: str = ""
    expected: tuple[ExpectedDifference, ...] = ()
    device: str = "cpu"
    safety: float | None = None
    restrictions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        as_precision(self.precision)

    def selected(self, check: str) -> bool:
        """Whether the check with this id is to run (``checks`` empty: all)."""
        return not self.checks or any(
            check == c or check.startswith(c.rstrip(".") + ".") for c in self.checks
        )

    def expected_difference(self, check: str) -> ExpectedDifference | None:
        """The declared expected difference excusing this check, if any."""
        for entry in self.expected:
            if entry.applies(check, self.precision, self.device):
                return entry
        return None

    def rerun(self, check: str) -> str:
        """A command that reruns just this check with the same examples."""
        if self.command:
            return f"{self.command} --check {shlex.quote(check)} --seed {self.seed}"
        return (
            f"rerun the check with checks=({check!r},), seed={self.seed}, "
            f"precision={self.precision!r}"
        )

    def with_(self, **changes: Any) -> "RunConfig":
        """A copy with some fields changed."""
        return replace(self, **changes)


SuiteRunner = Callable[[Callable[..., Any], RunConfig], "list[Any]"]
"""``run(candidate, config) -> list[CheckResult]``."""


@dataclass(frozen=True)
class Kind:
    """A calling convention and its suite of checks.

    ``name`` (``sdpa``), ``summary`` (the signature a candidate must take, one
    line), ``run(candidate, config) -> list[CheckResult]``, ``checks``: the ids
    the suite can report (for ``--list`` and ``--check``), ``layouts``: the
    layouts it accepts (first = default).
    """

    name: str
    summary: str
    run: SuiteRunner
    checks: tuple[str, ...] = ()
    layouts: tuple[str, ...] = ("BHLE",)


@dataclass(frozen=True)
class Target:
    """A framework's kernel for a kind, with its expected differences.

    ``make(config)`` returns the candidate (a callable in the kind's convention
    on NumPy arrays); it may raise ``ImportError`` when the framework is missing.
    ``layout`` is the layout the adapter presents (normally the kind's default);
    ``restrictions`` (see ``RunConfig``); ``max_examples`` caps the examples per
    check for a slow target (JAX compiles every new shape).
    """

    framework: str
    kind: str
    label: str
    make: Callable[[RunConfig], Callable[..., Any]]
    expected: tuple[ExpectedDifference, ...] = ()
    precisions: tuple[str, ...] = ()
    layout: str = "BHLE"
    restrictions: tuple[str, ...] = ()
    max_examples: int | None = None


_KINDS: dict[str, Kind] = {}
_TARGETS: list[Target] = []


def register_kind(kind: Kind) -> Kind:
    """Register a kind (replacing one of the same name); returns it."""
    _KINDS[kind.name] = kind
    return kind


def register_target(target: Target) -> Target:
    """Register a framework target (replacing one with the same framework, kind and label)."""
    _TARGETS[:] = [
        t
        for t in _TARGETS
        if (t.framework, t.kind, t.label) != (target.framework, target.kind, target.label)
    ]
    _TARGETS.append(target)
    return target


def load_families(modules: Sequence[str] = FAMILY_MODULES) -> None:
    """Import the family modules that exist (each registers its kinds and targets)."""
    for name in modules:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def kinds() -> dict[str, Kind]:
    """The registered kinds by name (after ``load_families``)."""
    load_families()
    return dict(_KINDS)


def targets(framework: str | None = None) -> list[Target]:
    """The registered targets, optionally of one framework (after ``load_families``)."""
    load_families()
    return [t for t in _TARGETS if framework is None or t.framework == framework]
