"""The peer-benchmark part of ``make demo``: the association organises a private OEE benchmark, five
member companies take part; their values never leave their nodes in the clear, and each company sees
where it stands."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from allmende.demo_network import Cli, Say, _api, _json

COMPANIES = ("provider", "consumer", "drehteile", "guss", "kunststoff")
VALUES = {  # what each company measured itself: OEE %, energy kWh per part
    "provider": (71.5, 2.9),
    "consumer": (63.0, 1.7),
    "drehteile": (58.5, 2.2),
    "guss": (80.0, 4.8),
    "kunststoff": (66.0, 3.1),
}


def _until(check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def run_benchmark(nodes: dict[str, dict[str, Any]], cli: Cli, say: Say, step: int) -> None:
    """Steps ``step``... of the demo."""
    association = nodes["association"]
    for key in COMPANIES[2:]:  # the builder and the SME are members already
        _json(cli, "membership", "apply", association["url"], "--data-dir", str(nodes[key]["dir"]))
    for entry in _api(association, "GET", "/directory/entries?state=pending"):
        _api(association, "POST", f"/directory/entries/{entry['id']}/admit")
    for key in COMPANIES:
        _json(cli, "membership", "refresh", "--data-dir", str(nodes[key]["dir"]))
    deadline = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    created = _api(
        association,
        "POST",
        "/benchmarks/rounds",
        {
            "title": "OEE and energy per part, milling and turning 2026",
            "kpis": [
                {
                    "name": "oee",
                    "unit": "%",
                    "label": "Overall equipment effectiveness",
                    "lower": 0,
                    "upper": 100,
                    "buckets": 10,
                },
                {
                    "name": "energy_per_part",
                    "unit": "kWh",
                    "label": "Energy per part",
                    "lower": 0,
                    "upper": 10,
                    "buckets": 10,
                },
            ],
            "deadline": deadline,
            "minParticipants": 5,
            "community": association["did"],
        },
    )
    say(f"\n{step}. {association['name']} organises a private benchmark round for its members:")
    say("   OEE (%) and energy per part (kWh); at least 5 participants, else nothing is released.")
    participations = {}
    for key in COMPANIES:
        oee, energy = VALUES[key]
        joined = _api(
            nodes[key], "POST", "/benchmarks/participations",
            {"round_url": created["url"], "values": {"oee": oee, "energy_per_part": energy}},
        )  # fmt: skip
        participations[key] = joined["id"]
    say(
        f"   {len(COMPANIES)} companies join; each keeps its own figures on its own node. They are split into"
    )
    say("   random Shamir shares, exchanged directly between the companies' nodes; the association only")
    say("   ever sees sums of shares and reconstructs the totals.")
    _api(association, "POST", f"/benchmarks/rounds/{created['id']}/close")

    def released() -> dict[str, Any] | None:
        found: dict[str, Any] = _api(association, "GET", f"/benchmarks/rounds/{created['id']}")
        return found if found["state"] in ("released", "failed") else None

    final = _until(released, timeout=120.0)
    if not final or final["state"] != "released":
        say(f"   The round did not release: {final and final.get('reason')}")
        return
    say(f"\n{step + 1}. The round is released. Each company sees where it stands:")
    for key in COMPANIES:

        def standing(participation: str = participations[key], node: dict[str, Any] = nodes[key]) -> Any:
            found = _api(node, "GET", f"/benchmarks/participations/{participation}")
            return found if found["state"] == "released" else None

        mine = _until(standing, timeout=60.0)
        if not mine:
            say(f"   {nodes[key]['name']}: no result yet")
            continue
        parts = []
        for entry in mine.get("standing") or []:
            if entry.get("withheld"):
                parts.append(f"{entry['kpi']} withheld")
                continue
            parts.append(
                f"{entry['kpi']} {entry['value']:g} {entry['unit']} (mean {entry['mean']:.1f}, "
                f"quartile {entry.get('quartile')}, ~{entry.get('percentile')}th percentile)"
            )
        say(f"   {nodes[key]['name']}: " + "; ".join(parts))
