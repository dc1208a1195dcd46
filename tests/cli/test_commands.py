"""The CLI's local commands: init, asset add, policy, inspection, audit verify — and their errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from allmende.cli.main import app

runner = CliRunner()


def init(tmp_path: Path, name: str = "Maschinenbau Muster GmbH") -> Path:
    data_dir = tmp_path / "node"
    result = runner.invoke(
        app, ["init", "--data-dir", str(data_dir), "--name", name, "--url", "http://127.0.0.1:8401"]
    )
    assert result.exit_code == 0, result.output
    assert "did:web:127.0.0.1%3A8401" in result.output
    return data_dir


def test_init_creates_a_node_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    data_dir = init(tmp_path)
    assert (data_dir / "node.json").is_file()
    assert oct((data_dir / "admin-api-key").stat().st_mode & 0o777) == "0o600"
    again = runner.invoke(
        app, ["init", "--data-dir", str(data_dir), "--name", "X", "--url", "http://127.0.0.1:1"]
    )
    assert again.exit_code == 1
    assert "refusing to overwrite" in again.output
    assert "Traceback" not in again.output


def test_init_rejects_a_bad_url_and_leaves_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "bad"
    result = runner.invoke(app, ["init", "--data-dir", str(data_dir), "--name", "X", "--url", "ftp://x"])
    assert result.exit_code == 1
    assert "http(s) URL" in result.output
    assert not data_dir.exists()


def test_asset_add_prints_ids_and_audits(tmp_path: Path) -> None:
    data_dir = init(tmp_path)
    csv = tmp_path / "spindle.csv"
    csv.write_text("t,v\n1,2\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "asset",
            "add",
            str(csv),
            "--data-dir",
            str(data_dir),
            "--title",
            "Spindle",
            "--description",
            "Vibration",
            "--keyword",
            "vibration",
            "--policy",
            "machine-data-maintenance",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    added = json.loads(result.output)
    assert added["asset"]["id"].startswith("urn:uuid:")
    assert added["offer"]["template"] == "machine-data-maintenance"
    assert added["asset"]["byteSize"] == csv.stat().st_size
    verified = runner.invoke(app, ["audit", "verify", "--data-dir", str(data_dir), "--json"])
    assert verified.exit_code == 0
    assert json.loads(verified.output) == {"ok": True, "entries": 2, "problems": []}


def test_asset_add_errors_are_clear(tmp_path: Path) -> None:
    data_dir = init(tmp_path)
    missing = runner.invoke(
        app,
        [
            "asset",
            "add",
            str(tmp_path / "nope.csv"),
            "--data-dir",
            str(data_dir),
            "--title",
            "T",
            "--description",
            "D",
        ],
    )
    assert missing.exit_code == 1 and "not a readable file" in missing.output
    csv = tmp_path / "a.csv"
    csv.write_text("x", encoding="utf-8")
    bad_policy = runner.invoke(
        app,
        [
            "asset",
            "add",
            str(csv),
            "--data-dir",
            str(data_dir),
            "--title",
            "T",
            "--description",
            "D",
            "--policy",
            "no-such-template",
        ],
    )
    assert bad_policy.exit_code == 1 and "neither a template" in bad_policy.output
    no_node = runner.invoke(app, ["negotiations", "--data-dir", str(tmp_path / "empty")])
    assert no_node.exit_code == 1 and "allmende init" in no_node.output


def test_policy_templates_and_show_in_both_languages(tmp_path: Path) -> None:
    listed = runner.invoke(app, ["policy", "templates", "--json"])
    names = [t["name"] for t in json.loads(listed.output)]
    assert {
        "open-use",
        "evaluation-only",
        "research-only",
        "time-limited",
        "machine-data-maintenance",
    } <= set(names)
    policy = tmp_path / "p.json"
    policy.write_text(
        json.dumps(
            {
                "@id": "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                "@type": "Offer",
                "permission": [
                    {
                        "action": "use",
                        "constraint": [
                            {"leftOperand": "purpose", "operator": "eq", "rightOperand": "research"}
                        ],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    german = runner.invoke(app, ["policy", "show", str(policy), "--lang", "de"])
    assert german.exit_code == 0 and "Forschung" in german.output
    english = runner.invoke(app, ["policy", "show", str(policy), "--json"])
    assert "research" in json.loads(english.output)["text"]
    policy.write_text("{broken", encoding="utf-8")
    broken = runner.invoke(app, ["policy", "show", str(policy)])
    assert broken.exit_code == 1 and "not valid JSON" in broken.output


def test_audit_verify_fails_on_a_tampered_log(tmp_path: Path) -> None:
    import sqlite3

    data_dir = init(tmp_path)
    with sqlite3.connect(data_dir / "allmende.db") as conn:
        conn.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1")
    result = runner.invoke(app, ["audit", "verify", "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert "entry 1" in result.output and "modified" in result.output
