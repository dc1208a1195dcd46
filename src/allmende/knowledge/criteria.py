"""The good-practice checklist of a case: which criteria it meets, as a score with its reasons (pure).

The criteria are the ones SMEs asked for ("good-practice cases with clear criteria"): a case is worth
copying when its outcome is measured, its cost and effort are stated, its tools are named, it says what
was learned, its company profile lets others judge whether it transfers to them, and someone can be asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from allmende.knowledge.model import GoodPracticeCase


@dataclass(frozen=True)
class Criterion:
    """One checklist line: met or not, and why."""

    key: str
    met: bool
    reason: str


@dataclass(frozen=True)
class Checklist:
    """The criteria of a case and its score (criteria met / criteria)."""

    criteria: tuple[Criterion, ...]

    @property
    def met(self) -> int:
        return sum(1 for c in self.criteria if c.met)

    @property
    def score(self) -> float:
        return self.met / len(self.criteria)

    def as_json(self) -> dict[str, object]:
        return {
            "score": round(self.score, 3),
            "met": self.met,
            "of": len(self.criteria),
            "criteria": [{"key": c.key, "met": c.met, "reason": c.reason} for c in self.criteria],
        }


def checklist(case: GoodPracticeCase) -> Checklist:
    """Check ``case`` against the good-practice criteria."""
    measured = [k for k in case.kpis if k.before != k.after]
    return Checklist(
        (
            Criterion(
                "documented_outcome",
                bool(measured),
                f"{len(measured)} KPI(s) measured before and after: " + ", ".join(k.name for k in measured)
                if measured
                else "no KPI with a value before and after",
            ),
            Criterion(
                "cost_stated",
                case.cost is not None,
                "cost range stated" if case.cost is not None else "no cost stated",
            ),
            Criterion(
                "duration_stated",
                case.duration_months is not None,
                f"took {case.duration_months:g} months" if case.duration_months else "no duration stated",
            ),
            Criterion(
                "tools_named",
                bool(case.tools),
                "tools named: " + ", ".join(case.tools) if case.tools else "no tools named",
            ),
            Criterion(
                "lessons_learned",
                len(case.lessons.strip()) >= 20,
                "lessons learned written down" if len(case.lessons.strip()) >= 20 else "no lessons learned",
            ),
            Criterion(
                "transferable",
                bool(case.company.sector and case.company.size_class and case.company.region),
                f"company profile given ({case.company.sector}, {case.company.size_class}, "
                f"{case.company.region}), so others can judge whether it fits them",
            ),
            Criterion(
                "contact_available",
                case.contact is not None and case.contact_opt_in,
                "the company agreed to be contacted"
                if case.contact is not None and case.contact_opt_in
                else "no contact (the company did not opt in)",
            ),
        )
    )
