"""Errors raised by the policy package."""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy document or a policy argument is malformed.

    The message names the offending field as a path, e.g. ``permission[0].constraint[1].operator``.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)
