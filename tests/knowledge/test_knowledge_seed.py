"""The seed list of real funding programmes: all rows import, source and date are kept, eligibility is
mapped only where the text says so."""

from __future__ import annotations

from datetime import date

import pytest

from allmende.knowledge.model import KnowledgeError
from allmende.knowledge.seed import read_programmes, seed_programmes


def test_every_row_imports_with_its_source_and_date() -> None:
    programmes = seed_programmes()
    assert len(programmes) == 18
    assert all(p.verified_on == date(2026, 11, 27) for p in programmes)
    assert all(str(p.verified_source) == str(p.official_page) for p in programmes)
    assert all(p.eligibility.text for p in programmes)


def test_eligibility_and_status_are_mapped_where_stated() -> None:
    by_title = {p.title: p for p in seed_programmes()}
    go_digital = by_title["go-digital"].eligibility
    assert (go_digital.max_employees, go_digital.max_turnover_eur) == (99, 20_000_000)
    assert by_title["go-digital"].status == "ended"
    bayern = by_title["Digitalbonus Bayern"].eligibility
    assert (bayern.max_employees, bayern.regions) == (49, ["DE-BY"])
    assert by_title["MID-Gutscheine (Mittelstand Innovativ & Digital)"].status == "closed"
    assert by_title["Zentrales Innovationsprogramm Mittelstand (ZIM)"].eligibility.max_employees == 499
    assert by_title["KMU-innovativ"].deadlines == ["15 April", "15 October"]
    assert by_title["EXIST-Gründerstipendium"].eligibility.max_company_age_years == 0
    assert by_title["EIC Accelerator"].funding_types == ["grant", "equity"]
    assert by_title["European Digital Innovation Hubs"].eligibility.regions == ["EU"]


def test_unstated_conditions_stay_unknown() -> None:
    by_title = {p.title: p for p in seed_programmes()}
    forschung = by_title["Forschungszulage"].eligibility
    assert forschung.max_employees is None and forschung.max_turnover_eur is None
    # "SMEs and Mittelstand companies up to EUR 500 million": no headcount limit is stated.
    erp = by_title["ERP-Förderkredit Digitalisierung (511/512)"].eligibility
    assert erp.max_employees is None and erp.max_turnover_eur == 500_000_000
    assert by_title["Eurostars"].eligibility.max_employees is None


def test_a_bad_row_is_refused_with_its_reason() -> None:
    header = "name,operator,level,type,funds,eligible,amount,status_note,source,read_on\n"
    row = "X,Op,federal,grant,Things,SMEs,1,open,not-a-url,2026-01-01\n"
    with pytest.raises(KnowledgeError, match="official_page"):
        read_programmes(header + row)
