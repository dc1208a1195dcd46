"""``make demo``: companies' nodes on loopback, a negotiation, a transfer and a community, explained.

Creates four nodes in a temporary folder and starts them with ``allmende serve`` as real processes:
"Maschinenbau Muster GmbH" publishes spindle vibration data under the ``machine-data-maintenance``
template, "Feinteile KG" reads its catalog, negotiates and pulls the data; the association's node runs a
directory that admits both, the builder publishes a members-only dataset, Feinteile finds it by searching
the network and gets a contract with its membership credential, and "Außenseiter AG" does not see it and
is refused. Then it prints the web addresses with a log-in for each node and keeps them running until
Ctrl-C.
"""

from __future__ import annotations

import csv
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from allmende.accounts.rules import OWNER
from allmende.accounts.service import create_user
from allmende.demo_benchmark import run_benchmark
from allmende.demo_compute import run_compute
from allmende.demo_knowledge import run_knowledge
from allmende.demo_network import DIRECTORY_NAME, run_network
from allmende.policy.jsonld import policy_from_json
from allmende.policy.render import render_policy
from allmende.settings import load_settings, update_settings
from allmende.setup_node import init_node
from allmende.store.database import Database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_vibration_csv(path: Path, rows: int = 2000) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "machine", "spindle_rpm", "vibration_rms_mm_s"])
        for i in range(rows):
            writer.writerow(
                [
                    f"2026-11-01T08:{(i // 60) % 60:02d}:{i % 60:02d}Z",
                    "DMU-65-07",
                    12000,
                    round(1.1 + 0.3 * math.sin(i / 40) + (0.6 if i > rows * 0.9 else 0.0), 3),
                ]
            )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "allmende.cli", *args], capture_output=True, text=True, check=False
    )


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the node at {url} exited during start-up (code {process.returncode})")
        try:
            if httpx.get(f"{url}/.well-known/dspace-version", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"the node at {url} did not become ready within {timeout} s")


def add_demo_user(data_dir: Path) -> str:
    """An owner "demo" with a fresh random password (printed), so the web interface can be tried at once."""
    password = "-".join(secrets.token_urlsafe(4) for _ in range(3))
    database = Database(load_settings(data_dir, environ={}).effective_database_url)
    try:
        with database.transaction() as session:
            create_user(
                session, username="demo", display_name="Demo", password=password, role=OWNER, actor="demo"
            )
    finally:
        database.dispose()
    return password


def say(text: str = "") -> None:
    print(text, flush=True)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="allmende-demo-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        run(root, processes)
        say("\nThe nodes keep running. Press Ctrl-C to stop them.")
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        say("A node stopped; ending the demo.")
    except KeyboardInterrupt:
        say("\nStopping the nodes ...")
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if os.environ.get("ALLMENDE_DEMO_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)


NODES = (
    ("provider", "Maschinenbau Muster GmbH"),
    ("consumer", "Feinteile KG"),
    ("association", "Verband Maschinenbau Sachsen e.V."),
    ("outsider", "Außenseiter AG"),
    ("centre", "Kompetenzzentrum Digitale Fertigung"),
    ("drehteile", "Drehteile Schmidt OHG"),
    ("guss", "Präzisionsguss Lausitz GmbH"),
    ("kunststoff", "Kunststofftechnik Vogtland GmbH"),
)


def run(root: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    nodes: dict[str, dict[str, Any]] = {}
    for key, name in NODES:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        created = init_node(root / key, name=name, public_url=url)
        nodes[key] = {
            "name": name,
            "url": url,
            "dir": root / key,
            "did": created.did,
            "key": created.admin_key,
            "password": add_demo_user(root / key),
        }
    update_settings(root / "association", {"directory_enabled": True, "directory_name": DIRECTORY_NAME})
    update_settings(root / "consumer", {"sector": "manufacturing", "size_class": "small", "region": "Saxony"})
    say("Allmende demo — companies, their nodes, a contract, a community\n")
    for key, _ in NODES:
        node = nodes[key]
        say(f"  {node['name']}: {node['url']}  ({node['did']})")
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "allmende.cli", "serve", "--data-dir", str(node["dir"])],
                stdout=subprocess.DEVNULL,
            )
        )
    for (key, _), process in zip(NODES, processes, strict=True):
        wait_ready(nodes[key]["url"], process)
    provider, consumer = nodes["provider"], nodes["consumer"]

    data = root / "spindle-vibration-DMU-65-07.csv"
    write_vibration_csv(data)
    added = cli(
        "asset",
        "add",
        str(data),
        "--data-dir",
        str(provider["dir"]),
        "--title",
        "Spindle vibration DMU 65 #07",
        "--description",
        "Vibration (RMS, mm/s) of the main spindle of a 5-axis milling machine, 1 sample per second.",
        "--keyword",
        "vibration",
        "--keyword",
        "spindle",
        "--keyword",
        "predictive maintenance",
        "--policy",
        "machine-data-maintenance",
        "--json",
    )
    if added.returncode != 0:
        raise SystemExit(added.stderr)
    offer = json.loads(added.stdout)["offer"]
    offer_id = offer["id"]
    say(f"\n1. {provider['name']} publishes its spindle vibration data with the template")
    say("   'machine-data-maintenance'. In plain words, the policy says:")
    for line in render_policy(policy_from_json(offer["policy"]), "en").splitlines()[1:]:
        say(f"     {line}")

    catalog = httpx.post(
        f"{consumer['url']}/api/v1/remote-catalogs",
        json={"address": provider["url"]},
        headers={"Authorization": f"Bearer {consumer['key']}"},
        timeout=30,
    ).json()
    titles = [d.get("dct:title") for d in catalog["catalog"].get("dataset", [])]
    say(f"\n2. {consumer['name']} reads the catalog of {provider['name']} (signed request, did:web):")
    say(f"   {len(titles)} dataset(s): " + ", ".join(str(t) for t in titles))

    say(f"\n3. {consumer['name']} asks for a contract on offer {offer_id} ...")
    negotiated = cli(
        "negotiate", provider["url"], "--offer", offer_id, "--data-dir", str(consumer["dir"]), "--json"
    )
    if negotiated.returncode != 0:
        raise SystemExit(negotiated.stderr)
    result = json.loads(negotiated.stdout)
    say(f"   The negotiation ended in state {result['state']}.")
    if result["state"] != "FINALIZED":
        say(f"   Reason: {result.get('terminationReason') or result.get('reviewNote')}")
        return
    agreements = {
        k: json.loads(cli("agreements", "--data-dir", str(nodes[k]["dir"]), "--json").stdout) for k in nodes
    }
    theirs, ours = agreements["provider"][0], agreements["consumer"][0]
    same = theirs["digest"] == ours["digest"] and theirs["id"] == ours["id"]
    say(f"   Agreement {ours['id']}")
    say(f"   digest {ours['digest']} — {'identical on both nodes' if same else 'DIFFERENT (bug!)'},")
    say("   signed by the provider and by the consumer.")
    received = root / "received-by-feinteile.csv"
    say(f"\n4. {consumer['name']} pulls the data under the agreement (HTTP pull with an access token")
    say("   bound to this transfer; the usage policy is checked at the access):")
    pulled = cli(
        "transfer", "get", ours["id"], "-o", str(received), "--data-dir", str(consumer["dir"]), "--json"
    )
    if pulled.returncode != 0:
        say(f"   failed: {pulled.stderr.strip()}")
    else:
        got = json.loads(pulled.stdout)
        say(f"   {got['bytes']} bytes received, sha-256 checked, saved as {received}")
        say(f"   transfer {got['transfer']['id']}: {got['transfer']['state']}")
    for step, key in ((5, "provider"), (6, "consumer")):
        checked = json.loads(cli("audit", "verify", "--data-dir", str(nodes[key]["dir"]), "--json").stdout)
        say(
            f"\n{step}. Audit log of {nodes[key]['name']}: {checked['entries']} entries, "
            f"hash chain {'intact' if checked['ok'] else 'BROKEN'}."
        )
    review_data = root / "tool-wear-images-index.csv"
    write_vibration_csv(review_data, rows=200)
    reviewed = cli(
        "asset",
        "add",
        str(review_data),
        "--data-dir",
        str(provider["dir"]),
        "--title",
        "Tool wear measurements, milling cell 2",
        "--description",
        "Flank wear (mm) per tool and part; every contract request is reviewed by hand.",
        "--keyword",
        "tool wear",
        "--policy",
        "machine-data-maintenance",
        "--review",
        "--json",
    )
    if reviewed.returncode == 0:
        say(f"\n7. {provider['name']} also publishes tool wear data; it reviews contract requests")
        say("   for it by hand.")
    run_network(nodes, root, cli, say, 8)
    run_compute(nodes, root, say, 12)
    run_knowledge(nodes, cli, say, 14)
    run_benchmark(nodes, cli, say, 16)
    say("\nOpen the web interface in your browser (switch between Deutsch and English at the top):")
    for key, _ in NODES:
        node = nodes[key]
        say(f"  {node['name']}: {node['url']}/   user: demo   password: {node['password']}")
    say(f"  Try: log in to {consumer['name']}, open Search the network (or Browse:")
    say(f"  {provider['url']}), request a contract for the tool wear data; then agree to it on")
    say(f"  {provider['name']} (Negotiations), and on")
    say(f"  {consumer['name']} open the agreement, get the data and download it.")
    say("\nTry it yourself (in another terminal):")
    say(f"  {sys.executable} -m allmende.cli negotiations --data-dir {consumer['dir']}")
    say(f"  curl {provider['url']}/.well-known/did.json")
    say(f"  API docs: {provider['url']}/api/v1/docs  (admin key in {provider['dir']}/admin-api-key)")


if __name__ == "__main__":
    main()
