"""The rich progress bar."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from allmende.dataplane.progress import ProgressSink, RichProgress


def test_bar_shows_bytes_and_restarts() -> None:
    out = io.StringIO()
    bar = RichProgress("asset.bin", console=Console(file=out, width=120, force_terminal=False))
    sink: ProgressSink = bar
    sink.start(2_000_000, 500_000)
    sink.advance(500_000)
    sink.start(2_000_000, 0)  # the download started over
    sink.advance(2_000_000)
    sink.finish()
    text = out.getvalue()
    assert "asset.bin" in text
    assert "2.0/2.0 MB" in text


def test_unknown_total_and_finish_without_start() -> None:
    out = io.StringIO()
    RichProgress("never started", console=Console(file=out)).finish()
    assert out.getvalue() == ""
    bar = RichProgress("streamed", console=Console(file=out, width=120))
    bar.start(None, 0)
    bar.advance(1234)
    bar.finish()
    assert "1.2/? kB" in out.getvalue()


def test_default_console_writes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    bar = RichProgress("to stderr")
    bar.start(10, 0)
    bar.advance(10)
    bar.finish()
    captured = capsys.readouterr()
    assert "to stderr" in captured.err
    assert captured.out == ""
