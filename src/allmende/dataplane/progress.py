"""Reporting a download's progress: the :class:`ProgressSink` contract and a rich bar on stderr."""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class ProgressSink(Protocol):
    """Told how a download advances.

    ``start`` comes first, and again whenever the download starts over (the counts restart from
    ``already``); ``advance`` for each piece written; ``finish`` exactly once, on success or failure.
    """

    def start(self, total: int | None, already: int) -> None:
        """The file has ``total`` bytes (None: unknown), of which ``already`` are on disk."""

    def advance(self, n: int) -> None:
        """``n`` more bytes were written."""

    def finish(self) -> None:
        """The download ended (the display can be closed)."""


class RichProgress:
    """A progress bar with bytes done, transfer rate and time remaining, drawn on stderr."""

    def __init__(self, description: str, *, console: Console | None = None) -> None:
        self._description = description
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console if console is not None else Console(stderr=True),
            transient=False,
        )
        self._task: TaskID | None = None

    def start(self, total: int | None, already: int) -> None:
        """Show the bar (or reset it when the download starts over)."""
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task(self._description, total=total, completed=already)
        else:
            self._progress.reset(self._task, total=total, completed=already)

    def advance(self, n: int) -> None:
        """Move the bar on by ``n`` bytes."""
        if self._task is not None:
            self._progress.advance(self._task, n)

    def finish(self) -> None:
        """Draw the bar a last time and stop refreshing it (nothing to do if it never started)."""
        if self._task is not None:
            self._progress.stop()
