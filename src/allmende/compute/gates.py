"""Release gates: the checks a result passes before it may leave the node. Pure (OpenDP aside).

:func:`release` runs every gate and returns either the released table (with noise where asked) and the
checks it passed, or a rejection with all the reasons. The gates:

1. **types** — only numbers, strings, dates, timestamps and booleans (no lists, structs, blobs...).
2. **rows** and **size** — at most ``max_rows`` rows and ``max_bytes`` bytes of released CSV.
3. **group size** (when the policy sets ``min_group_size`` = k) — the result must be aggregate and say so:
   it carries an integer column, named by ``group_size_column`` (default ``n``), holding the number of
   records behind each row. Every row must have at least k. A result without that column is treated as
   row-level data and refused. Refusals name the groups (by their non-numeric columns) but never the
   counts below k. The gate trusts the column; approving the code (allow-list by digest, or manual
   review) is what makes the column honest.
4. **privacy** (when ``privacy`` is set) — the budget check (:func:`~allmende.compute.privacy.check_budget`),
   then Laplace noise on the named numeric columns (see :mod:`allmende.compute.privacy`). k is checked on
   the true counts before noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from allmende.compute.privacy import (
    PrivacyError,
    PrivacyRequest,
    check_budget,
    noise_scale,
    noisy_count,
    noisy_value,
)
from allmende.compute.result import NUMERIC_KINDS, ResultTable, Value, format_value, to_csv
from allmende.compute.runtime import MiB, describe_bytes

RELEASABLE_KINDS = frozenset({"integer", "number", "string", "date", "timestamp", "boolean"})
MAX_GROUPS_NAMED = 20


@dataclass(frozen=True)
class Budget:
    """A consumer's privacy budget and what it has spent so far (ε), from the lead's ledger."""

    total: float
    spent: float


@dataclass(frozen=True)
class GatePolicy:
    """The owner's limits for one release, plus what the job states about its result.

    ``min_group_size`` is the policy's k (``None``: no group-size gate); ``group_size_column`` names the
    count column (the job may name it; ``n`` by default); ``privacy`` asks for noise (the owner may
    require it, the job may ask for it); ``budget`` is the consumer's ledger entry, required with noise.
    """

    max_bytes: int = 10 * MiB
    max_rows: int = 100_000
    min_group_size: int | None = None
    group_size_column: str = "n"
    privacy: PrivacyRequest | None = None
    budget: Budget | None = None


@dataclass(frozen=True)
class GateOutcome:
    """Released (``table`` and ``csv`` set, ``epsilon_spent`` to record) or rejected with ``reasons``."""

    released: bool
    checks_passed: tuple[str, ...]
    reasons: tuple[str, ...] = ()
    table: ResultTable | None = None
    csv: bytes | None = None
    epsilon_spent: float = 0.0


@dataclass
class _Gate:
    passed: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def check(self, name: str, problems: list[str]) -> bool:
        if problems:
            self.reasons.extend(problems)
            return False
        self.passed.append(name)
        return True

    def rejected(self) -> GateOutcome:
        return GateOutcome(False, tuple(self.passed), tuple(self.reasons))


def release(table: ResultTable, policy: GatePolicy) -> GateOutcome:
    """Run all gates on ``table``; see the module text for what each one checks."""
    gate = _Gate()
    gate.check("types: numbers, strings, dates only", _type_problems(table))
    gate.check(f"rows: {len(table.rows)} <= {policy.max_rows}", _row_problems(table, policy))
    if policy.min_group_size is not None:
        gate.check(
            f"groups: every group has at least {policy.min_group_size} records",
            _group_problems(table, policy),
        )
    if gate.reasons:
        return gate.rejected()
    released = table
    epsilon = 0.0
    if policy.privacy is not None:
        problems = _privacy_problems(table, policy)
        if not gate.check(f"privacy budget: ε {policy.privacy.epsilon:g} available", problems):
            return gate.rejected()
        released = _add_noise(table, policy.privacy, policy.group_size_column)
        epsilon = policy.privacy.epsilon
        gate.passed.append(f"noise: Laplace, ε {epsilon:g} over {len(policy.privacy.columns)} column(s)")
    csv = to_csv(released)
    if not gate.check(f"size: {len(csv)} bytes <= {policy.max_bytes}", _size_problems(len(csv), policy)):
        return gate.rejected()
    return GateOutcome(True, tuple(gate.passed), (), released, csv, epsilon)


def _type_problems(table: ResultTable) -> list[str]:
    return [
        f"column {column.name!r} has type {column.source_type or column.kind}; "
        "only numbers, strings, dates and times can be released"
        for column in table.columns
        if column.kind not in RELEASABLE_KINDS
    ]


def _row_problems(table: ResultTable, policy: GatePolicy) -> list[str]:
    if len(table.rows) > policy.max_rows:
        return [f"the result has {len(table.rows)} rows; at most {policy.max_rows} may be released"]
    return []


def _size_problems(size: int, policy: GatePolicy) -> list[str]:
    if size > policy.max_bytes:
        return [
            f"the result has {describe_bytes(size)}; "
            f"at most {describe_bytes(policy.max_bytes)} may be released"
        ]
    return []


def _group_problems(table: ResultTable, policy: GatePolicy) -> list[str]:
    k = policy.min_group_size
    assert k is not None
    name = policy.group_size_column
    index = table.index(name)
    if index is None:
        return [
            f"the policy requires at least {k} records per group, but the result has no {name!r} column "
            "stating group sizes; row-level results are not released under this policy"
        ]
    if table.columns[index].kind != "integer":
        return [f"the group size column {name!r} must hold whole numbers"]
    keys = [i for i, column in enumerate(table.columns) if column.kind not in NUMERIC_KINDS and i != index]
    small: list[str] = []
    for number, row in enumerate(table.rows, start=1):
        count = row[index]
        if not isinstance(count, int) or isinstance(count, bool) or count < k:
            small.append(_group_label(table, row, keys, number))
    if not small:
        return []
    shown = ", ".join(small[:MAX_GROUPS_NAMED])
    more = f" and {len(small) - MAX_GROUPS_NAMED} more" if len(small) > MAX_GROUPS_NAMED else ""
    return [f"{len(small)} group(s) have fewer than {k} records: {shown}{more}"]


def _group_label(table: ResultTable, row: tuple[Value, ...], keys: list[int], number: int) -> str:
    if not keys:
        return f"row {number}"
    return "(" + ", ".join(f"{table.columns[i].name}={format_value(row[i]) or 'null'}" for i in keys) + ")"


def _privacy_problems(table: ResultTable, policy: GatePolicy) -> list[str]:
    request = policy.privacy
    assert request is not None
    problems: list[str] = []
    for column in request.columns:
        index = table.index(column.name)
        if index is None:
            problems.append(f"the column {column.name!r} to be noised is not in the result")
        elif table.columns[index].kind not in NUMERIC_KINDS:
            problems.append(f"the column {column.name!r} to be noised is not numeric")
        elif column.statistic == "count" and table.columns[index].kind != "integer":
            problems.append(f"the count column {column.name!r} must hold whole numbers")
    if any(column.statistic == "mean" for column in request.columns):
        count_index = table.index(policy.group_size_column)
        if count_index is None or table.columns[count_index].kind != "integer":
            problems.append(
                f"noising a mean needs the group size column {policy.group_size_column!r} (whole numbers)"
            )
    if policy.budget is None:
        problems.append("noise was asked for without the consumer's privacy budget")
    else:
        decision = check_budget(policy.budget.spent, request.epsilon, policy.budget.total)
        if not decision.allowed:
            problems.append(decision.reason)
    return problems


def _add_noise(table: ResultTable, request: PrivacyRequest, group_size_column: str) -> ResultTable:
    epsilon = request.epsilon_per_column
    count_index = table.index(group_size_column)
    rows = [list(row) for row in table.rows]
    columns = list(table.columns)
    for column in request.columns:
        index = table.index(column.name)
        assert index is not None
        for original, row in zip(table.rows, rows, strict=True):
            value = row[index]
            if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
                continue
            if column.statistic == "count":
                row[index] = noisy_count(int(value), epsilon)
                continue
            size = original[count_index] if count_index is not None else None
            group = size if isinstance(size, int) and not isinstance(size, bool) else None
            try:
                scale = noise_scale(column, epsilon, group)
            except PrivacyError:
                row[index] = None  # a mean over an empty group: nothing to release
                continue
            if column.statistic == "mean":
                row[index] = noisy_value(float(value), scale, column.lower, column.upper)
            else:
                row[index] = noisy_value(float(value), scale)
        if column.statistic != "count" and columns[index].kind == "integer":
            columns[index] = replace(columns[index], kind="number")
    return ResultTable(tuple(columns), tuple(tuple(row) for row in rows))
