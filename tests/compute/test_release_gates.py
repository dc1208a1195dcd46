"""Release gates: types, size, rows, minimum group size k, and differential-privacy noise."""

from __future__ import annotations

import datetime as dt

from allmende.compute.gates import Budget, GatePolicy, release
from allmende.compute.privacy import NoiseColumn, PrivacyRequest
from allmende.compute.result import Column, ResultTable, read_csv_result

SHIFTS = ResultTable(
    (Column("shift", "string"), Column("day", "date"), Column("n", "integer"), Column("mean_load", "number")),
    (
        ("early", dt.date(2026, 1, 5), 12, 0.61),
        ("late", dt.date(2026, 1, 5), 9, 0.55),
        ("night", dt.date(2026, 1, 5), 3, 0.40),
    ),
)


def test_a_plain_result_is_released_with_the_checks_it_passed() -> None:
    outcome = release(SHIFTS, GatePolicy())
    assert outcome.released
    assert outcome.table == SHIFTS
    assert outcome.csv is not None and read_csv_result(outcome.csv).rows == SHIFTS.rows
    assert [check.split(":")[0] for check in outcome.checks_passed] == ["types", "rows", "size"]
    assert outcome.epsilon_spent == 0.0


def test_groups_under_k_are_refused_and_named_without_their_counts() -> None:
    outcome = release(SHIFTS, GatePolicy(min_group_size=5))
    assert not outcome.released
    assert outcome.reasons == ("1 group(s) have fewer than 5 records: (shift=night, day=2026-01-05)",)
    assert "3" not in outcome.reasons[0].split(":", 1)[1].replace("2026-01-05", "")
    assert outcome.table is None and outcome.csv is None
    assert any(check.startswith("types") for check in outcome.checks_passed)


def test_every_group_at_k_or_more_is_released() -> None:
    outcome = release(SHIFTS, GatePolicy(min_group_size=3))
    assert outcome.released
    assert "groups: every group has at least 3 records" in outcome.checks_passed


def test_the_job_names_its_group_size_column() -> None:
    renamed = ResultTable(
        (Column("shift", "string"), Column("records", "integer")), (("early", 10), ("late", 2))
    )
    assert not release(renamed, GatePolicy(min_group_size=5)).released  # no "n": row-level
    outcome = release(renamed, GatePolicy(min_group_size=5, group_size_column="records"))
    assert outcome.reasons == ("1 group(s) have fewer than 5 records: (shift=late)",)


def test_a_row_level_result_is_refused_when_k_is_required() -> None:
    rows = ResultTable((Column("machine", "string"), Column("load", "number")), (("M1", 0.5), ("M2", 0.7)))
    outcome = release(rows, GatePolicy(min_group_size=5))
    assert not outcome.released
    assert "no 'n' column stating group sizes; row-level results are not released" in outcome.reasons[0]
    assert release(rows, GatePolicy()).released  # without k, row-level results may leave


def test_missing_or_fractional_group_sizes_count_as_too_small() -> None:
    table = ResultTable((Column("g", "string"), Column("n", "integer")), (("a", None), ("b", 7)))
    assert release(table, GatePolicy(min_group_size=5)).reasons == (
        "1 group(s) have fewer than 5 records: (g=a)",
    )
    fractional = ResultTable((Column("g", "string"), Column("n", "number")), (("a", 7.5),))
    assert "must hold whole numbers" in release(fractional, GatePolicy(min_group_size=5)).reasons[0]


def test_many_small_groups_are_summarised() -> None:
    table = ResultTable(
        (Column("g", "string"), Column("n", "integer")), tuple((f"g{i}", 1) for i in range(25))
    )
    reason = release(table, GatePolicy(min_group_size=2)).reasons[0]
    assert reason.startswith("25 group(s) have fewer than 2 records: (g=g0)")
    assert reason.endswith("and 5 more")


def test_groups_without_key_columns_are_named_by_row() -> None:
    table = ResultTable((Column("n", "integer"), Column("total", "number")), ((2, 5.0),))
    assert release(table, GatePolicy(min_group_size=3)).reasons == (
        "1 group(s) have fewer than 3 records: row 1",
    )


def test_type_rows_and_size_gates() -> None:
    nested = ResultTable((Column("l", "other", "INTEGER[]"), Column("n", "integer")), (("[1]", 5),))
    outcome = release(nested, GatePolicy())
    assert outcome.reasons == (
        "column 'l' has type INTEGER[]; only numbers, strings, dates and times can be released",
    )
    many = ResultTable((Column("x", "integer"),), tuple((i,) for i in range(11)))
    assert release(many, GatePolicy(max_rows=10)).reasons == (
        "the result has 11 rows; at most 10 may be released",
    )
    wide = ResultTable((Column("s", "string"),), (("x" * 2000,),))
    assert release(wide, GatePolicy(max_bytes=1024)).reasons == (
        "the result has 2.0 KiB; at most 1 KiB may be released",
    )


def test_all_failing_gates_are_reported_together() -> None:
    nested = ResultTable((Column("l", "other", "MAP"),), tuple(("{}",) for _ in range(3)))
    outcome = release(nested, GatePolicy(max_rows=2, min_group_size=5))
    assert len(outcome.reasons) == 3


def noised(epsilon: float = 1.0) -> PrivacyRequest:
    return PrivacyRequest(
        epsilon, (NoiseColumn("n", "count"), NoiseColumn("mean_load", "mean", lower=0.0, upper=1.0))
    )


def test_noise_is_added_to_the_named_columns_and_the_spend_reported() -> None:
    policy = GatePolicy(min_group_size=3, privacy=noised(1.0), budget=Budget(total=3.0, spent=0.5))
    outcome = release(SHIFTS, policy)
    assert outcome.released, outcome.reasons
    assert outcome.epsilon_spent == 1.0
    assert outcome.table is not None
    assert [row[0] for row in outcome.table.rows] == ["early", "late", "night"]
    for row in outcome.table.rows:
        assert isinstance(row[2], int) and row[2] >= 0
        assert isinstance(row[3], float) and 0.0 <= row[3] <= 1.0
    assert any(check.startswith("noise: Laplace, ε 1") for check in outcome.checks_passed)


def test_k_is_checked_on_true_counts_before_noise() -> None:
    policy = GatePolicy(min_group_size=5, privacy=noised(), budget=Budget(total=3.0, spent=0.0))
    assert not release(SHIFTS, policy).released


def test_noise_over_budget_is_refused_with_what_is_left() -> None:
    policy = GatePolicy(privacy=noised(1.0), budget=Budget(total=2.0, spent=1.5))
    outcome = release(SHIFTS, policy)
    assert not outcome.released
    assert outcome.reasons == ("the privacy budget allows ε 0.5 more; this release asks for ε 1",)


def test_noise_needs_a_budget_and_existing_numeric_columns() -> None:
    assert "without the consumer's privacy budget" in release(SHIFTS, GatePolicy(privacy=noised())).reasons[0]
    request = PrivacyRequest(1.0, (NoiseColumn("shift", "count"), NoiseColumn("missing", "sum", 0, 1)))
    reasons = release(SHIFTS, GatePolicy(privacy=request, budget=Budget(5, 0))).reasons
    assert reasons == (
        "the column 'shift' to be noised is not numeric",
        "the column 'missing' to be noised is not in the result",
    )


def test_sums_are_noised_around_the_true_value() -> None:
    table = ResultTable((Column("g", "string"), Column("total", "integer")), (("a", 1000),))
    request = PrivacyRequest(10.0, (NoiseColumn("total", "sum", lower=0.0, upper=1.0),))
    values = [
        release(table, GatePolicy(privacy=request, budget=Budget(1e9, 0))).table.rows[0][1]  # type: ignore[union-attr]
        for _ in range(200)
    ]
    assert all(isinstance(v, float) for v in values)
    assert abs(sum(values) / len(values) - 1000) < 0.1  # scale 0.1: mean of 200 draws is within ±0.1
    assert len(set(values)) > 150
