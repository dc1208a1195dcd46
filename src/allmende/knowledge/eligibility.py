"""Whether a company may apply to a funding programme (pure rules).

Three answers: ``eligible`` (every known condition holds), ``check`` (no known condition fails, but the
profile lacks a value a condition needs, e.g. the turnover) and ``ineligible`` (a condition fails, or the
programme is closed or has ended). Conditions a programme does not state restrict nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from allmende.knowledge.model import FundingProgramme
from allmende.knowledge.reasons import Reason
from allmende.knowledge.regions import SIZE_CLASSES, covers, employee_range, region_code, region_label

Verdict = Literal["eligible", "check", "ineligible"]
RANK: dict[Verdict, int] = {"eligible": 0, "check": 1, "ineligible": 2}


@dataclass(frozen=True)
class CompanyProfile:
    """What matchmaking knows about a company. Unknown values are None (or "")."""

    sector: str = ""
    size_class: str = ""
    employees: int | None = None
    region: str = ""
    company_age_years: float | None = None
    turnover_eur: float | None = None

    def __post_init__(self) -> None:
        if self.size_class and self.size_class not in SIZE_CLASSES:
            raise ValueError(f"size_class must be one of {', '.join(SIZE_CLASSES)}, got {self.size_class!r}")
        if self.region and region_code(self.region) is None:
            raise ValueError(f"unknown region {self.region!r}: give a German state, a country code or EU")
        for name in ("employees", "company_age_years", "turnover_eur"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")

    @property
    def region_code(self) -> str | None:
        return region_code(self.region) if self.region else None

    def employees_range(self) -> tuple[int, int | None] | None:
        """The known span of the headcount: exact, or the span of the size class; None if unknown."""
        if self.employees is not None:
            return self.employees, self.employees
        if self.size_class:
            return employee_range(self.size_class)
        return None


@dataclass(frozen=True)
class EligibilityResult:
    """The verdict and its reasons: conditions met, failed, and not checkable with this profile."""

    verdict: Verdict
    met: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    unknown: tuple[str, ...] = field(default=())


def assess(programme: FundingProgramme, profile: CompanyProfile) -> EligibilityResult:
    """Check ``profile`` against every condition ``programme`` states."""
    rules = programme.eligibility
    met: list[Reason] = []
    failed: list[Reason] = []
    unknown: list[Reason] = []
    if programme.status != "open":
        note = programme.status_note
        failed.append(
            Reason("status_note", status=programme.status, note=note)
            if note
            else Reason("status", status=programme.status)
        )
    span = profile.employees_range()
    if rules.max_employees is not None or rules.min_employees is not None:
        if span is None:
            unknown.append(Reason("employees_unknown"))
        else:
            fewest, most = span
            top = "∞" if rules.max_employees is None else str(rules.max_employees)
            limit = f"{rules.min_employees or 0}–{top}"
            if rules.max_employees is not None and fewest > rules.max_employees:
                failed.append(Reason("employees_above", most=rules.max_employees))
            elif rules.min_employees is not None and most is not None and most < rules.min_employees:
                failed.append(Reason("employees_below", least=rules.min_employees))
            elif (rules.max_employees is not None and (most is None or most > rules.max_employees)) or (
                rules.min_employees is not None and fewest < rules.min_employees
            ):
                unknown.append(Reason("employees_exact", span=limit))
            else:
                met.append(Reason("employees_within", span=limit))
    if rules.size_classes:
        if not profile.size_class:
            unknown.append(Reason("size_unknown"))
        elif profile.size_class in rules.size_classes:
            met.append(Reason("size_met", size=profile.size_class))
        else:
            sizes = ", ".join(rules.size_classes)
            failed.append(Reason("size_failed", size=profile.size_class, sizes=sizes))
    if rules.regions:
        code = profile.region_code
        areas = ", ".join(region_label(r) for r in rules.regions)
        if code is None:
            unknown.append(Reason("region_unknown", areas=areas))
        elif any(covers(area, code) for area in rules.regions):
            met.append(Reason("region_met", region=region_label(code), areas=areas))
        else:
            failed.append(Reason("region_failed", region=region_label(code), areas=areas))
    if rules.sectors:
        wanted = {s.casefold() for s in rules.sectors}
        if not profile.sector:
            unknown.append(Reason("sector_unknown"))
        elif profile.sector.casefold() in wanted:
            met.append(Reason("sector_met", sector=profile.sector))
        else:
            failed.append(Reason("sector_failed", sector=profile.sector, sectors=", ".join(rules.sectors)))
    if rules.max_company_age_years is not None or rules.min_company_age_years is not None:
        age = profile.company_age_years
        if age is None:
            unknown.append(Reason("age_unknown"))
        elif rules.max_company_age_years is not None and age > rules.max_company_age_years:
            failed.append(
                Reason("age_before_founding")
                if rules.max_company_age_years == 0
                else Reason("age_above", years=float(rules.max_company_age_years))
            )
        elif rules.min_company_age_years is not None and age < rules.min_company_age_years:
            failed.append(Reason("age_below", years=float(rules.min_company_age_years)))
        else:
            met.append(Reason("age_met"))
    if rules.max_turnover_eur is not None:
        amount = float(rules.max_turnover_eur)
        if profile.turnover_eur is None:
            unknown.append(Reason("turnover_unknown", amount=amount))
        elif profile.turnover_eur > rules.max_turnover_eur:
            failed.append(Reason("turnover_above", amount=amount))
        else:
            met.append(Reason("turnover_met", amount=amount))
    verdict: Verdict = "ineligible" if failed else ("check" if unknown else "eligible")
    return EligibilityResult(verdict, tuple(met), tuple(failed), tuple(unknown))
