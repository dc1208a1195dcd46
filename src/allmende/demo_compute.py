"""The compute-to-data part of ``make demo``: the SME runs the machine builder's pre-approved
"average spindle load per shift" SQL job on the builder's data and receives only the aggregate."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import httpx

from allmende.demo_network import Say, _api

LOAD_PER_SHIFT = """SELECT shift,
       count(*) AS n,
       round(avg(spindle_load_pct), 1) AS avg_load_pct,
       round(max(spindle_load_pct), 1) AS peak_load_pct
FROM data
GROUP BY shift
ORDER BY min(hour)"""


def write_load_csv(path: Path, days: int = 30) -> int:
    """Hourly spindle load of three machines over ``days`` days (the builder's own data)."""
    rng = random.Random(65)
    lines = ["machine,date,hour,shift,spindle_load_pct"]
    for day in range(days):
        for hour in range(24):
            shift = "early" if 6 <= hour < 14 else "late" if 14 <= hour < 22 else "night"
            base = {"early": 68.0, "late": 61.0, "night": 43.0}[shift]
            for machine in ("DMU 65 #07", "DMU 65 #08", "CTX 510 #02"):
                load = max(0.0, min(100.0, rng.gauss(base, 9.0)))
                lines.append(f"{machine},2026-10-{day + 1:02d},{hour},{shift},{load:.1f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def _until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def run_compute(nodes: dict[str, dict[str, Any]], root: Path, say: Say, step: int) -> None:
    """Steps ``step``... of the demo."""
    provider, consumer = nodes["provider"], nodes["consumer"]
    data = root / "spindle-load-hourly.csv"
    rows = write_load_csv(data)
    digest = _api(provider, "POST", "/compute/digest", {"kind": "sql", "code": LOAD_PER_SHIFT})["digest"]
    asset = _api(
        provider,
        "POST",
        "/assets",
        {
            "path": str(data),
            "title": "Spindle load, hourly, three machines (compute only)",
            "description": "Hourly spindle load (%) of three machines over October. The rows never leave: "
            "approved algorithms run here and only aggregates of at least 5 records are released.",
            "keywords": ["spindle load", "shift", "compute-to-data"],
            "template": "compute-only",
            "template_params": {"algorithms": digest, "min_group_size": "5", "max_jobs": "10"},
        },
    )
    _api(
        provider, "POST", "/compute/algorithms", {"digest": digest, "name": "Average spindle load per shift"}
    )
    say(f"\n{step}. {provider['name']} offers its hourly spindle load ({rows} rows) for computing only:")
    say("   approved algorithms run on its node, and only aggregates of at least 5 records leave.")
    say(f"   It allows and pre-approves one SQL algorithm, {digest[:23]}…")
    started = _api(
        consumer, "POST", "/negotiations", {"address": provider["url"], "offer_id": asset["offer"]["id"]}
    )

    def finalized() -> dict[str, Any] | None:
        found: dict[str, Any] = _api(consumer, "GET", f"/negotiations/{started['id']}")
        return found if found["state"] in ("FINALIZED", "TERMINATED") else None

    negotiation = _until(finalized)
    if not negotiation or negotiation["state"] != "FINALIZED":
        say(f"   The contract was not concluded: {negotiation}")
        return
    agreement = negotiation["agreementId"]
    say(f"   {consumer['name']} concludes a contract for computing on it (agreement {agreement}).")
    job = _api(
        consumer,
        "POST",
        "/compute/jobs",
        {
            "agreement_id": agreement,
            "kind": "sql",
            "code": LOAD_PER_SHIFT,
            "title": "Average spindle load per shift",
        },
    )

    def released() -> dict[str, Any] | None:
        found: dict[str, Any] = _api(consumer, "POST", f"/compute/jobs/{job['id']}/refresh")
        return found if found["state"] in ("released", "rejected", "failed") else None

    done = _until(released, timeout=60.0)
    if not done or done["state"] != "released":
        say(f"   The job did not finish: {done and (done['state'], done['reason'])}")
        return
    say(f"\n{step + 1}. {consumer['name']} runs 'average spindle load per shift' there; the job passed")
    say("   the release checks and was released at once (pre-approved). What came back:")
    preview = done["preview"]
    say("     " + "  ".join(f"{name:>14}" for name in preview["columns"]))
    for row in preview["rows"]:
        say("     " + "  ".join(f"{value:>14}" for value in row))
    say(f"   {done['resultBytes']} bytes, {done['resultRows']} rows — not one of the {rows} hourly rows.")
    probe = "SELECT * FROM data"
    asked = httpx.post(
        f"{consumer['url']}/api/v1/compute/jobs",
        json={"agreement_id": agreement, "kind": "sql", "code": probe},
        headers={"Authorization": f"Bearer {consumer['key']}"},
        timeout=30,
    )
    reason = asked.json().get("error", "") if asked.status_code >= 400 else "ACCEPTED (bug!)"
    say(f"   Asking for the raw rows ({probe!r}) is refused: {reason[:160]}")
