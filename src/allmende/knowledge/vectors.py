"""The knowledge index in memory: the embedding matrix and the filter values of every row.

Loaded from the database once and kept until the index changes (this process changed it, or its row
count, highest row id or newest update differ: another process changed it). Search over 20,000 items
is then one matrix-vector product plus a mask.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allmende.knowledge.embeddings import from_bytes
from allmende.knowledge.filters import Filters
from allmende.knowledge.index import index_version
from allmende.knowledge.records import KnowledgeIndexRecord as R
from allmende.knowledge.regions import covers

Mask = npt.NDArray[np.bool_]
__all__ = ["Filters", "Mask", "Vectors", "vectors"]


@dataclass
class Vectors:
    """Row ids, their embeddings (rows without one are zero and marked) and filter values."""

    ids: npt.NDArray[np.int64]
    matrix: npt.NDArray[np.float32]
    has_vector: Mask
    model: str | None
    kinds: npt.NDArray[np.str_]
    statuses: npt.NDArray[np.str_]
    regions: list[tuple[str, ...]]
    sectors: list[frozenset[str]]
    sizes: list[frozenset[str]]
    positions: dict[int, int] = field(default_factory=dict)
    _masks: dict[tuple[str, str], Mask] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.positions = {int(row): i for i, row in enumerate(self.ids)}

    def mask(self, filters: Filters) -> Mask:
        """Which rows pass ``filters``."""
        passed = np.ones(len(self.ids), dtype=np.bool_)
        for name in ("kind", "region", "sector", "size", "status"):
            value = getattr(filters, name)
            if value:
                passed &= self._mask(name, value)
        return passed

    def _mask(self, name: str, value: str) -> Mask:
        key = (name, value.casefold())
        known = self._masks.get(key)
        if known is not None:
            return known
        made: Mask
        if name == "kind":
            made = np.asarray(self.kinds == value, dtype=np.bool_)
        elif name == "status":
            made = np.asarray((self.statuses == "") | (self.statuses == value), dtype=np.bool_)
        elif name == "region":
            made = np.array([not r or any(covers(a, value) for a in r) for r in self.regions], dtype=np.bool_)
        elif name == "sector":
            wanted = value.casefold()
            made = np.array([not s or wanted in s for s in self.sectors], dtype=np.bool_)
        else:
            made = np.array([not s or value in s for s in self.sizes], dtype=np.bool_)
        self._masks[key] = made
        return made


_cache: dict[str, tuple[tuple[object, ...], Vectors]] = {}
_lock = threading.Lock()


_checked: dict[str, tuple[float, tuple[object, ...]]] = {}
RECHECK_SECONDS = 2.0
"""How long the index in memory is trusted without asking the database whether another process (the
CLI, another worker) changed it; changes made by this process are seen at once."""


def _fingerprint(session: Session, url: str) -> tuple[object, ...]:
    # Every change inserts rows with new ids (index.put replaces a row), so count and highest id tell.
    seen = _checked.get(url)
    now = time.monotonic()
    if seen is not None and now - seen[0] < RECHECK_SECONDS and seen[1][-1] == index_version():
        return seen[1]
    count, top = session.execute(select(func.count(R.id), func.max(R.id))).one()
    mark = (int(count), top, index_version())
    _checked[url] = (now, mark)
    return mark


def vectors(session: Session, model: str | None) -> Vectors:
    """The in-memory index for this database (loaded or reused); embeddings of ``model`` only."""
    url = str(session.get_bind().engine.url)
    mark = (*_fingerprint(session, url), model)
    with _lock:
        cached = _cache.get(url)
        if cached is not None and cached[0] == mark:
            return cached[1]
    loaded = _load(session, model)
    with _lock:
        _cache[url] = (mark, loaded)
    return loaded


def _load(session: Session, model: str | None) -> Vectors:
    rows = session.execute(
        select(
            R.id, R.kind, R.status, R.regions, R.sectors, R.sizes, R.embedding, R.embedding_model
        ).order_by(R.id)
    ).all()
    blobs = [row[6] if model is not None and row[7] == model else None for row in rows]
    dim = next((len(b) // 4 for b in blobs if b), 1)
    has = np.array([b is not None and len(b) == 4 * dim for b in blobs], dtype=np.bool_)
    matrix = np.zeros((len(rows), dim), dtype=np.float32)
    if has.any():
        # One buffer for all vectors: 20,000 rows load in milliseconds, not row by row.
        joined = b"".join(bytes(b) for b, ok in zip(blobs, has, strict=True) if ok and b)
        matrix[has] = from_bytes(joined).reshape(-1, dim)
    return Vectors(
        ids=np.array([int(row[0]) for row in rows], dtype=np.int64),
        matrix=matrix,
        has_vector=has,
        model=model,
        kinds=np.array([row[1] for row in rows], dtype=np.str_),
        statuses=np.array([row[2] for row in rows], dtype=np.str_),
        regions=[tuple(str(row[3]).split()) for row in rows],
        sectors=[frozenset(s.casefold() for s in str(row[4]).split("\n") if s) for row in rows],
        sizes=[frozenset(str(row[5]).split()) for row in rows],
    )
