"""``allmende compute``: the local digest, and clear errors without a running node."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from allmende.cli.main import app
from allmende.compute.algorithm import make_bundle

runner = CliRunner()


def test_digest_matches_what_the_node_computes(tmp_path: Path) -> None:
    code = tmp_path / "load.sql"
    code.write_text("SELECT shift, count(*) AS n FROM data GROUP BY shift\n", encoding="utf-8")
    result = runner.invoke(app, ["compute", "digest", "--code-file", str(code), "--json"])
    assert result.exit_code == 0, result.output
    expected = make_bundle("sql", code.read_text(encoding="utf-8"), "duckdb-sql/1").digest
    assert json.loads(result.output) == {"digest": expected, "runtime": "duckdb-sql/1"}
    plain = runner.invoke(app, ["compute", "digest", "--code-file", str(code)])
    assert plain.output.strip() == expected


def test_bad_input_is_refused_with_a_reason(tmp_path: Path) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("   \n", encoding="utf-8")
    result = runner.invoke(app, ["compute", "digest", "--kind", "python", "--code-file", str(empty)])
    assert result.exit_code == 1 and "empty" in result.output
    unknown = runner.invoke(app, ["compute", "digest", "--kind", "cobol", "--code-file", str(empty)])
    assert unknown.exit_code == 1 and "kind" in unknown.output
    data_dir = tmp_path / "node"
    runner.invoke(app, ["init", "--data-dir", str(data_dir), "--name", "X", "--url", "http://127.0.0.1:8791"])
    down = runner.invoke(app, ["compute", "jobs", "--data-dir", str(data_dir)])
    assert down.exit_code == 1 and "allmende serve" in down.output
    noise = runner.invoke(
        app,
        ["compute", "submit", "--agreement", "a", "--code-file", str(empty), "--noise", "x:mean",
         "--data-dir", str(data_dir)],
    )  # fmt: skip
    assert noise.exit_code == 1 and "--epsilon" in noise.output
