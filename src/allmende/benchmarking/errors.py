"""Errors of the benchmarking domain, each with a message a user or a peer can act on."""

from __future__ import annotations


class BenchmarkError(ValueError):
    """A benchmark operation cannot be done (bad input, unknown round, wrong state, peer refused...).

    ``status`` is the HTTP status the API or protocol route answers with; nothing was changed.
    """

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
