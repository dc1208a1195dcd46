"""The round state machines and the organiser's decisions, as pure functions.

Organiser: ``open → sharing → summing → released``, and from any of the first three ``failed`` with a
reason. Participant: ``joined → sharing → summed → released``, ``failed`` likewise.

- Closing: at least ``min_participants`` joined, else the round fails and releases nothing. The
  threshold ``t`` is at least a strict majority of the participants (``n // 2 + 1``), so no two
  disjoint groups of participants can both answer the organiser (see ``docs/benchmarking.md``).
- Sharing ends when every participant reported shares from all, or when the phase window has passed.
- Summing plan (:func:`plan_summing`): from what each participant reports to hold (its *receipt*),
  pick the dealers whose contributions count and the participants asked for share-sums over exactly
  those dealers; at least ``min_participants`` dealers and ``t`` summers, else the round fails.
- Release needs ``t`` share-sums; fewer by the end of the summing window fails the round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class RoundState(StrEnum):
    OPEN = "open"
    SHARING = "sharing"
    SUMMING = "summing"
    RELEASED = "released"
    FAILED = "failed"


class ParticipationState(StrEnum):
    JOINED = "joined"
    SHARING = "sharing"
    SUMMED = "summed"
    RELEASED = "released"
    FAILED = "failed"


_ROUND_MOVES: Mapping[RoundState, frozenset[RoundState]] = {
    RoundState.OPEN: frozenset({RoundState.SHARING, RoundState.FAILED}),
    RoundState.SHARING: frozenset({RoundState.SUMMING, RoundState.FAILED}),
    RoundState.SUMMING: frozenset({RoundState.RELEASED, RoundState.FAILED}),
    RoundState.RELEASED: frozenset(),
    RoundState.FAILED: frozenset(),
}
_PARTICIPATION_MOVES: Mapping[ParticipationState, frozenset[ParticipationState]] = {
    ParticipationState.JOINED: frozenset({ParticipationState.SHARING, ParticipationState.FAILED}),
    ParticipationState.SHARING: frozenset(
        {ParticipationState.SUMMED, ParticipationState.RELEASED, ParticipationState.FAILED}
    ),
    ParticipationState.SUMMED: frozenset({ParticipationState.RELEASED, ParticipationState.FAILED}),
    ParticipationState.RELEASED: frozenset(),
    ParticipationState.FAILED: frozenset(),
}


class IllegalMove(ValueError):
    """A state change the machine does not allow."""


def move_round(current: str, target: RoundState) -> RoundState:
    """``target`` if a round in ``current`` may move there; IllegalMove otherwise."""
    state = RoundState(current)
    if target not in _ROUND_MOVES[state]:
        raise IllegalMove(f"a round that is {state} cannot become {target}")
    return target


def move_participation(current: str, target: ParticipationState) -> ParticipationState:
    """``target`` if a participation in ``current`` may move there; IllegalMove otherwise."""
    state = ParticipationState(current)
    if target not in _PARTICIPATION_MOVES[state]:
        raise IllegalMove(f"a participation that is {state} cannot become {target}")
    return target


def is_final(state: str) -> bool:
    return state in (RoundState.RELEASED, RoundState.FAILED)


def threshold_for(participants: int, requested: int | None) -> int:
    """The reconstruction threshold: the requested one, raised to a strict majority (at least 2)."""
    return max(2, participants // 2 + 1, requested or 0)


@dataclass(frozen=True)
class Closing:
    """The outcome of closing the joining phase: sharing with ``threshold``, or failed with ``reason``."""

    state: RoundState
    threshold: int | None = None
    reason: str | None = None


def close_joining(joined: int, min_participants: int, requested_threshold: int | None) -> Closing:
    """Whether ``joined`` participants can start sharing, and with which threshold."""
    if joined < min_participants:
        return Closing(
            RoundState.FAILED,
            reason=f"only {joined} participants joined; the round needs at least {min_participants}",
        )
    threshold = threshold_for(joined, requested_threshold)
    if threshold > joined:
        return Closing(
            RoundState.FAILED,
            reason=f"the threshold {threshold} is above the {joined} participants that joined",
        )
    return Closing(RoundState.SHARING, threshold=threshold)


def sharing_done(complete: int, participants: int, window_passed: bool) -> bool:
    """Sharing ends when every participant holds shares from all, or when the window has passed."""
    return complete >= participants or window_passed


@dataclass(frozen=True)
class SummingPlan:
    """Whose contributions count (``dealers``) and who is asked for share-sums (``summers``)."""

    dealers: tuple[int, ...] = ()
    summers: tuple[int, ...] = ()
    reason: str | None = None  # set when the round cannot go on

    @property
    def failed(self) -> bool:
        return self.reason is not None


def plan_summing(
    receipts: Mapping[int, frozenset[int]], threshold: int, min_participants: int
) -> SummingPlan:
    """The dealers and summers from the receipts (participant index → dealers it holds shares from).

    First try: every dealer that at least ``threshold`` participants hold; summers are the participants
    that hold all of them. If that leaves too few summers, fall back to the dealers that every reporting
    participant holds. The plan is refused with a reason when fewer than ``min_participants`` dealers or
    ``threshold`` summers remain.
    """
    reporting = {index: held for index, held in receipts.items() if held}
    if len(reporting) < threshold:
        return SummingPlan(
            reason=f"only {len(reporting)} participants hold shares; {threshold} are needed to reconstruct"
        )
    every = frozenset().union(*reporting.values())
    widely_held = frozenset(d for d in every if sum(d in held for held in reporting.values()) >= threshold)
    candidates = [widely_held, frozenset.intersection(*reporting.values())]
    best: SummingPlan | None = None
    for dealers in candidates:
        summers = tuple(sorted(index for index, held in reporting.items() if dealers <= held))
        if len(summers) >= threshold and len(dealers) >= min_participants:
            return SummingPlan(tuple(sorted(dealers)), summers)
        if best is None:
            best = SummingPlan(tuple(sorted(dealers)), summers)
    assert best is not None
    if len(best.dealers) < min_participants:
        reason = (
            f"only {len(best.dealers)} participants shared their figures with enough peers; "
            f"the round needs at least {min_participants}"
        )
    else:
        reason = f"only {len(best.summers)} participants hold shares from all; {threshold} are needed"
    return SummingPlan(best.dealers, best.summers, reason)


def check_dealers(
    dealers: Sequence[int],
    listed: Sequence[int],
    held: Sequence[int],
    min_participants: int,
    answered: Sequence[int] | None,
) -> str | None:
    """Why a participant must refuse a share-sum over ``dealers`` (None: it may answer).

    It answers for one dealer set per round only, and never for fewer than ``min_participants``
    dealers: two sums over sets that differ in one dealer, or a sum over a tiny set, would hand the
    organiser a share of a single participant's figures.
    """
    wanted = sorted(set(dealers))
    if len(wanted) != len(dealers):
        return "the dealer list repeats a participant"
    if answered is not None and wanted != sorted(answered):
        return "this participant already answered for another set of dealers"
    if len(wanted) < min_participants:
        return f"a share-sum needs at least {min_participants} dealers, not {len(wanted)}"
    strangers = sorted(set(wanted) - set(listed))
    if strangers:
        return f"participants {strangers} are not in the round"
    missing = sorted(set(wanted) - set(held))
    if missing:
        return f"no shares held from participants {missing}"
    return None
