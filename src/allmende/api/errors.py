"""Errors of the management API: a status, a message that says what was wrong, optional details."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiProblem(Exception):
    """Answered as ``{"error": message, "details": details}`` with ``status``."""

    status: int
    message: str
    details: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)
