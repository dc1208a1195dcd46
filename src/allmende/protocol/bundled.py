"""Read-only access to the standards data bundled with the ``allmende`` package.

Everything under ``allmende/standards/`` (DSP 2025-1 schemas and contexts, DCAT-AP 3.0.1 shapes and context)
is read through :mod:`importlib.resources`, so it works from a wheel, a zip or an editable install, and never
needs the network.
"""

from __future__ import annotations

import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

_STANDARDS_ROOT = ("standards",)


class BundledFileMissing(FileNotFoundError):
    """A file expected among the bundled standards data is not there (broken installation)."""


def standards_file(relative_path: str) -> Traversable:
    """Return the bundled file at ``relative_path`` (e.g. ``"dsp-2025-1/context/dspace.jsonld"``)."""
    node = files("allmende").joinpath(*_STANDARDS_ROOT)
    for part in relative_path.split("/"):
        node = node.joinpath(part)
    if not node.is_file():
        raise BundledFileMissing(f"bundled standards file not found: standards/{relative_path}")
    return node


def read_standards_text(relative_path: str) -> str:
    """Return the UTF-8 text of a bundled standards file."""
    return standards_file(relative_path).read_text(encoding="utf-8")


def read_standards_json(relative_path: str) -> Any:
    """Return the parsed JSON of a bundled standards file."""
    return json.loads(read_standards_text(relative_path))


def list_standards_files(relative_dir: str, suffix: str) -> list[str]:
    """Return the relative paths of the bundled files in ``relative_dir`` whose names end with ``suffix``."""
    node = files("allmende").joinpath(*_STANDARDS_ROOT)
    for part in relative_dir.split("/"):
        node = node.joinpath(part)
    if not node.is_dir():
        raise BundledFileMissing(f"bundled standards folder not found: standards/{relative_dir}")
    return sorted(f"{relative_dir}/{child.name}" for child in node.iterdir() if child.name.endswith(suffix))
