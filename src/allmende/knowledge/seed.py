"""The seed list of real funding programmes (package data) as knowledge items (pure parsing).

The CSV's free-text eligibility is mapped to structured conditions only where its words say so for sure
("fewer than 100 employees", "at most EUR 20 million turnover", "site in Bavaria", "before founding");
anything else stays unknown (no restriction stated) and the words are kept in ``eligibility.text``.
Each programme keeps its source and the date it was read as ``verified_source`` and ``verified_on``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from importlib import resources
from typing import Any

from allmende.knowledge.model import FundingProgramme, KnowledgeItem, parse_item
from allmende.knowledge.regions import region_code

SEED_FILE = "funding-programmes.csv"
DEMO_FILE = "demo-items.json"
_NUMBER = r"(\d[\d,.]*)"


def _int(text: str) -> int:
    return int(text.replace(",", "").replace(".", ""))


def _max_employees(text: str) -> int | None:
    lowered = text.lower()
    if match := re.search(rf"(?:fewer|less) than {_NUMBER} employees", lowered):
        return _int(match.group(1)) - 1
    if match := re.search(rf"(?:up to|at most) {_NUMBER} employees", lowered):
        return _int(match.group(1))
    if not re.match(r"^(single )?smes\b", lowered) or "mittelstand" in lowered:
        return None  # SMEs among larger companies: no headcount limit stated
    if "mid-cap" in lowered:
        return 499  # small mid-caps: fewer than 500 employees (EU definition)
    if re.match(r"^(single )?smes\b", lowered):
        return 249  # SMEs: fewer than 250 employees (EU definition)
    return None


def _max_turnover(text: str) -> float | None:
    match = re.search(rf"(?:at most|up to) eur {_NUMBER} million (?:group )?turnover", text.lower())
    return float(match.group(1).replace(",", "")) * 1_000_000 if match else None


def _regions(level: str, eligible: str) -> list[str]:
    found = re.search(r"\(([^)]+)\)", level)
    if found and (code := region_code(found.group(1))):
        return [code]
    for phrase in re.findall(r"(?:site in|in) ([A-ZÄÖÜ][\w\- ]+)", eligible):
        if code := region_code(phrase.strip()):
            return [code]
    if level.strip().lower() == "eu":
        return ["EU"]
    if level.strip().lower() == "federal":
        return ["DE"]
    return []


def _status(note: str) -> str:
    lowered = note.lower()
    if lowered.startswith("ended") or " ended" in lowered:
        return "ended"
    if "closed" in lowered:
        return "closed"
    return "open"


def _types(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\band\b|,", text.lower()) if part.strip()]


def _deadlines(note: str) -> list[str]:
    match = re.search(r"deadlines? ([^;]+)", note)
    return [part.strip() for part in re.split(r"\band\b|,", match.group(1)) if part.strip()] if match else []


def programme_from_row(row: dict[str, str]) -> FundingProgramme:
    """One CSV row as a programme (raises KnowledgeError for a row that does not validate)."""
    eligible = row["eligible"].strip()
    age = 0.0 if "before founding" in row["funds"].lower() else None
    data: dict[str, Any] = {
        "kind": "programme",
        "title": row["name"].strip(),
        "summary": f"{row['funds'].strip()} ({row['operator'].strip()}, {row['type'].strip()})",
        "language": "en",
        "keywords": ["Förderung", "funding", row["type"].strip()],
        "operator": row["operator"].strip(),
        "funding_types": _types(row["type"]),
        "funds": row["funds"].strip(),
        "eligibility": {
            "text": eligible,
            "max_employees": _max_employees(eligible),
            "max_turnover_eur": _max_turnover(eligible),
            "regions": _regions(row["level"], eligible),
            "max_company_age_years": age,
        },
        "amount": row["amount"].strip(),
        "deadlines": _deadlines(row["status_note"]),
        "status": _status(row["status_note"]),
        "status_note": row["status_note"].strip(),
        "official_page": row["source"].strip(),
        "verified_on": date.fromisoformat(row["read_on"].strip()).isoformat(),
        "verified_source": row["source"].strip(),
    }
    data["eligibility"] = {k: v for k, v in data["eligibility"].items() if v not in (None, [])}
    item = parse_item(data)
    assert isinstance(item, FundingProgramme)
    return item


def read_programmes(text: str) -> list[FundingProgramme]:
    """Every programme of a seed CSV (columns as in the bundled file)."""
    return [programme_from_row(row) for row in csv.DictReader(io.StringIO(text))]


def seed_programmes() -> list[FundingProgramme]:
    """The bundled seed programmes."""
    data = resources.files("allmende.knowledge") / "data" / SEED_FILE
    return read_programmes(data.read_text(encoding="utf-8"))


def demo_items() -> list[KnowledgeItem]:
    """The bundled demo items of the "Centre of Excellence" node (cases, experts, and more)."""
    data = resources.files("allmende.knowledge") / "data" / DEMO_FILE
    return [parse_item(entry) for entry in json.loads(data.read_text(encoding="utf-8"))]
