"""The round state machines and the organiser's decisions, as pure functions."""

from __future__ import annotations

import pytest

from allmende.benchmarking.states import (
    IllegalMove,
    ParticipationState,
    RoundState,
    check_dealers,
    close_joining,
    move_participation,
    move_round,
    plan_summing,
    sharing_done,
    threshold_for,
)


def test_rounds_move_forward_only() -> None:
    assert move_round("open", RoundState.SHARING) == RoundState.SHARING
    assert move_round("summing", RoundState.RELEASED) == RoundState.RELEASED
    for current, target in [
        ("open", RoundState.SUMMING),
        ("sharing", RoundState.RELEASED),
        ("released", RoundState.FAILED),
        ("failed", RoundState.OPEN),
    ]:
        with pytest.raises(IllegalMove, match=f"a round that is {current}"):
            move_round(current, target)
    with pytest.raises(ValueError):
        move_round("paused", RoundState.OPEN)


def test_participations_move_forward_only() -> None:
    assert move_participation("joined", ParticipationState.SHARING) == ParticipationState.SHARING
    assert move_participation("sharing", ParticipationState.RELEASED) == ParticipationState.RELEASED
    with pytest.raises(IllegalMove):
        move_participation("joined", ParticipationState.SUMMED)
    with pytest.raises(IllegalMove):
        move_participation("released", ParticipationState.FAILED)


def test_threshold_is_at_least_a_majority() -> None:
    assert [threshold_for(n, None) for n in (2, 3, 5, 6, 20)] == [2, 2, 3, 4, 11]
    assert threshold_for(6, 5) == 5 and threshold_for(6, 2) == 4


def test_closing_needs_the_minimum_and_a_reachable_threshold() -> None:
    assert close_joining(6, 5, None) == close_joining(6, 5, None)
    started = close_joining(6, 5, None)
    assert (started.state, started.threshold) == (RoundState.SHARING, 4)
    too_few = close_joining(4, 5, None)
    assert too_few.state == RoundState.FAILED and too_few.reason == (
        "only 4 participants joined; the round needs at least 5"
    )
    unreachable = close_joining(5, 5, 7)
    assert unreachable.state == RoundState.FAILED and "threshold 7" in (unreachable.reason or "")


def test_sharing_ends_when_all_report_or_the_window_passes() -> None:
    assert sharing_done(6, 6, False) and sharing_done(2, 6, True) and not sharing_done(5, 6, False)


def test_plan_with_everyone_holding_everything() -> None:
    everyone = frozenset(range(1, 7))
    plan = plan_summing({p: everyone for p in range(1, 7)}, 4, 5)
    assert (plan.dealers, plan.summers, plan.failed) == ((1, 2, 3, 4, 5, 6), (1, 2, 3, 4, 5, 6), False)


def test_plan_after_a_dropout_after_sharing_keeps_its_contribution() -> None:
    # 3 shared with everyone, then fell silent: it reports nothing, the others hold its share
    everyone = frozenset(range(1, 7))
    plan = plan_summing({p: everyone for p in (1, 2, 4, 5, 6)}, 4, 5)
    assert plan.dealers == (1, 2, 3, 4, 5, 6) and plan.summers == (1, 2, 4, 5, 6)


def test_plan_after_a_dropout_before_sharing_leaves_it_out() -> None:
    others = frozenset({1, 2, 4, 5, 6})
    plan = plan_summing({1: others, 2: others, 3: frozenset(), 4: others, 5: others, 6: others}, 4, 5)
    assert plan.dealers == (1, 2, 4, 5, 6) and plan.summers == (1, 2, 4, 5, 6)


def test_plan_falls_back_to_what_every_reporter_holds() -> None:
    # each of 3, 4 and 5 reached only some peers: only two participants hold all of 1-5, too few for
    # threshold 3, so the plan keeps the dealers every reporter holds
    receipts = {
        1: frozenset({1, 2, 3, 4}),
        2: frozenset({1, 2, 3, 5}),
        3: frozenset({1, 2, 4, 5}),
        4: frozenset({1, 2, 3, 4, 5}),
        5: frozenset({1, 2, 3, 4, 5}),
    }
    plan = plan_summing(receipts, 3, 2)
    assert plan.dealers == (1, 2) and plan.summers == (1, 2, 3, 4, 5)


def test_plan_fails_with_the_reason() -> None:
    few = frozenset({1, 2, 3, 4})
    assert (
        plan_summing({1: few, 2: few}, 3, 4).reason
        == "only 2 participants hold shares; 3 are needed to reconstruct"
    )
    plan = plan_summing({p: few for p in (1, 2, 3, 4)}, 3, 5)
    assert plan.failed and "only 4 participants shared" in (plan.reason or "")


def test_a_participant_answers_one_large_enough_dealer_set_only() -> None:
    listed, held = [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]
    assert check_dealers([1, 2, 3, 4, 5], listed, held, 5, None) is None
    assert check_dealers([1, 2, 3, 4, 5], listed, held, 5, [1, 2, 3, 4, 5]) is None
    assert check_dealers([1, 2, 3, 4, 6], listed, held, 5, [1, 2, 3, 4, 5]) == (
        "this participant already answered for another set of dealers"
    )
    assert check_dealers([1, 2], listed, held, 5, None) == "a share-sum needs at least 5 dealers, not 2"
    assert check_dealers([1, 1, 2, 3, 4], listed, held, 4, None) == "the dealer list repeats a participant"
    assert check_dealers([1, 2, 3, 4, 9], listed, held, 5, None) == "participants [9] are not in the round"
    assert (
        check_dealers([1, 2, 3, 4, 5], listed, [1, 2, 3, 4], 5, None)
        == "no shares held from participants [5]"
    )
