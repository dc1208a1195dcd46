"""The network part of ``make demo``: an association's directory, membership credentials, a
members-only dataset found by searching the network, and an outsider who is refused."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from allmende.policy.jsonld import policy_to_json
from allmende.policy.templates import get_template

Cli = Callable[..., subprocess.CompletedProcess[str]]
Say = Callable[[str], None]
DIRECTORY_NAME = "Datenraum Maschinenbau Sachsen"


def _api(node: dict[str, Any], method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.request(
        method,
        f"{node['url']}/api/v1{path}",
        json=body,
        headers={"Authorization": f"Bearer {node['key']}"},
        timeout=30,
    )
    if response.status_code >= 400:
        raise SystemExit(f"{node['name']}: {method} {path} failed: {response.text}")
    return response.json()


def _json(cli: Cli, *args: str) -> Any:
    done = cli(*args, "--json")
    if done.returncode != 0:
        raise SystemExit(f"allmende {' '.join(args)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def run_network(nodes: dict[str, dict[str, Any]], root: Path, cli: Cli, say: Say, step: int) -> None:
    """Steps ``step``... of the demo: join the directory, publish for members, search, negotiate."""
    provider, consumer = nodes["provider"], nodes["consumer"]
    association, outsider = nodes["association"], nodes["outsider"]
    say(f"\n{step}. {association['name']} runs the directory of the community “{DIRECTORY_NAME}”.")
    say(f"   {provider['name']} and {consumer['name']} apply to join (signed with their did:web keys):")
    for member in (provider, consumer):
        _json(cli, "membership", "apply", association["url"], "--data-dir", str(member["dir"]))
    pending = _api(association, "GET", "/directory/entries?state=pending")
    for entry in pending:
        _api(association, "POST", f"/directory/entries/{entry['id']}/admit")
        say(f"   admitted: {entry['name']}")
    for member in (provider, consumer):
        _json(cli, "membership", "refresh", "--data-dir", str(member["dir"]))
    held = _json(cli, "membership", "list", "--data-dir", str(consumer["dir"]))
    say(f"   {consumer['name']} now holds a membership credential (W3C VC 2.0, signed by the directory,")
    say(f"   state {held[0]['state'] if held else 'unknown'}), which it presents when it calls other nodes.")

    data = root / "spindle-vibration-members.csv"
    data.write_text("t,rms_mm_s\n0,0.41\n1,0.43\n2,0.40\n", encoding="utf-8")
    community = association["did"]
    members_only = policy_to_json(
        get_template("members-only").build(provider["did"], "any", community=community)
    )
    published = _api(
        provider,
        "POST",
        "/assets",
        {
            "path": str(data),
            "title": "Spindle vibration, members' benchmark set",
            "description": "Vibration of ten milling spindles, shared with the members of the community.",
            "keywords": ["vibration", "spindle", "benchmark"],
            "template": "members-only",
            "template_params": {"community": community},
            "access_policy": members_only,
        },
    )
    offer_id = published["offer"]["id"]
    say(f"\n{step + 1}. {provider['name']} publishes a dataset for members of the community only")
    say("   (usage policy and catalog visibility both require a valid membership credential).")

    crawled = _json(cli, "crawl", "--data-dir", str(consumer["dir"]))
    hits = _json(cli, "search", "spindle benchmark", "--data-dir", str(consumer["dir"]))
    results = hits["hits"]
    datasets = crawled.get("datasets", "?")
    say(f"\n{step + 2}. {consumer['name']} crawls the catalogs of its community ({datasets} datasets)")
    say("   and searches the network for “spindle benchmark”:")
    for hit in results[:3]:
        say(f"     {hit['title']} — offered by {hit['nodeName'] or hit['nodeDid']}")
    found = next((h for h in results if any(o["id"] == offer_id for o in h["offers"])), None)
    if found is None:
        say("   The members-only dataset was NOT found (bug!).")
        return
    negotiated = _json(
        cli, "negotiate", found["nodeDid"], "--offer", offer_id, "--data-dir", str(consumer["dir"])
    )
    say(f"   It asks {found['nodeDid']} for a contract, presenting its credential: {negotiated['state']}.")

    say(f"\n{step + 3}. {outsider['name']} is no member of the community:")
    catalog = _json(cli, "catalog", provider["url"], "--data-dir", str(outsider["dir"]))
    titles = [str(d.get("dct:title")) for d in catalog.get("catalog", catalog).get("dataset", [])]
    visible = "members' benchmark set" in " ".join(titles)
    say(
        f"   the builder's catalog shows it {len(titles)} dataset(s); the members-only one is "
        f"{'VISIBLE (bug!)' if visible else 'not among them'}."
    )
    asked = cli(
        "negotiate", provider["url"], "--offer", offer_id, "--data-dir", str(outsider["dir"]), "--json"
    )
    if asked.returncode != 0:
        say(f"   Asking for it by its offer id is refused: {asked.stderr.strip().removeprefix('Error: ')}")
    else:
        refused = json.loads(asked.stdout)
        reason = refused.get("terminationReason") or ""
        say(f"   Asking for it by its offer id ends {refused['state']}: {reason}")
