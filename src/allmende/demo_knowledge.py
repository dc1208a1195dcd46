"""The knowledge-hub part of ``make demo``: a Centre of Excellence publishes the seed funding
programmes, good-practice cases and expertise; the SME's node finds them through the network and its
matchmaking for a concrete need lists the programmes it is eligible for first."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from allmende.demo_network import Cli, Say, _api, _json

NEED = (
    "We want to connect our injection moulding machines and predict failures, 40 employees, Saxony. "
    "Wir suchen Förderung und Erfahrungen anderer Betriebe."
)


def run_knowledge(nodes: dict[str, dict[str, Any]], cli: Cli, say: Say, step: int) -> None:
    """Steps ``step``... of the demo."""
    centre, consumer, association = nodes["centre"], nodes["consumer"], nodes["association"]
    _json(cli, "membership", "apply", association["url"], "--data-dir", str(centre["dir"]))
    for entry in _api(association, "GET", "/directory/entries?state=pending"):
        _api(association, "POST", f"/directory/entries/{entry['id']}/admit")
    _json(cli, "membership", "refresh", "--data-dir", str(centre["dir"]))
    seeded = _api(centre, "POST", "/knowledge/seed?demo=true")
    kinds: dict[str, int] = {}
    for item in _api(centre, "GET", "/knowledge/items"):
        kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
    listed = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    say(f"\n{step}. {centre['name']} joins the community and publishes knowledge for SMEs:")
    say(f"   {seeded['added']} items ({listed}).")
    say("   The funding programmes are real, each with the date it was last verified and its source.")
    crawled = _api(consumer, "POST", "/knowledge/crawl")
    say(f"\n{step + 1}. {consumer['name']} pulls the knowledge of its community into its hub")
    say(f"   ({crawled.get('items', crawled)} items) and asks for matches to its need:")
    say(f"   “{NEED}”")
    profile = {"sector": "manufacturing", "size_class": "small", "employees": 40, "region": "Saxony"}
    matched = _api(consumer, "POST", "/knowledge/match", {"need": NEED, "profile": profile, "limit": 4})
    if matched.get("notice"):
        say(f"   ({matched['notice']})")
    labels = {"programmes": "Funding programmes", "cases": "Cases of similar companies", "experts": "Experts"}
    for group, label in labels.items():
        found = matched.get(group) or []
        say(f"   {label}:")
        if not found:
            say("     none found")
        for match in found[:4]:
            verdict = match.get("eligibility")
            tag = f" [{verdict}]" if verdict else ""
            verified = f" (verified {match['verifiedOn']})" if match.get("verifiedOn") else ""
            say(f"     {match['title']}{tag}{verified}")
            if match.get("why"):
                say(f"       why: {'; '.join(match['why'][:3])}")
    programmes = matched.get("programmes") or []
    order = [p.get("eligibility") for p in programmes]
    rank = {"eligible": 0, "check": 1, "ineligible": 2}
    in_order = all(rank.get(a or "", 1) <= rank.get(b or "", 1) for a, b in pairwise(order))
    say(f"   Eligible programmes come first: {'yes' if in_order else 'NO (bug!)'}.")
