"""The life of a compute job, as pure rules.

``queued`` → ``running`` → ``awaiting-release`` (the owner reviews code and result) → ``released`` or
``rejected``; a job whose algorithm is pre-approved goes from ``running`` to ``released`` directly when
the gates pass. A run that fails ends in ``failed``; gates that refuse the result end in ``rejected``.
Both sides show the same states; the consumer's copy follows the provider's.
"""

from __future__ import annotations

from typing import Final, Literal

JobState = Literal["queued", "running", "awaiting-release", "released", "rejected", "failed"]
STATES: Final[tuple[JobState, ...]] = (
    "queued",
    "running",
    "awaiting-release",
    "released",
    "rejected",
    "failed",
)
FINAL: Final = frozenset({"released", "rejected", "failed"})
OPEN: Final = frozenset({"queued", "running", "awaiting-release"})

_NEXT: Final[dict[str, frozenset[str]]] = {
    "queued": frozenset({"running", "rejected", "failed"}),
    "running": frozenset({"awaiting-release", "released", "rejected", "failed", "queued"}),
    "awaiting-release": frozenset({"released", "rejected"}),
    "released": frozenset(),
    "rejected": frozenset(),
    "failed": frozenset(),
}


class JobStateError(ValueError):
    """A change of state the job's life does not allow; the message says which."""


def can_move(current: str, target: str) -> bool:
    """Whether a job in ``current`` may move to ``target`` (``running`` → ``queued``: a restart)."""
    return target in _NEXT.get(current, frozenset())


def check_move(current: str, target: str) -> None:
    """Raise :class:`JobStateError` unless ``current`` → ``target`` is allowed."""
    if not can_move(current, target):
        raise JobStateError(f"a job that is {current} cannot become {target}")


def after_gates(passed: bool, manual_release: bool) -> JobState:
    """Where a job goes once its run succeeded and the release gates decided."""
    if not passed:
        return "rejected"
    return "awaiting-release" if manual_release else "released"


def is_final(state: str) -> bool:
    return state in FINAL
