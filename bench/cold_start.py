"""Cold start: spawn a node process (fresh interpreter) until the first 200, and its idle memory.

``python -m bench.cold_start`` — median of 5 spawns of ``python -m bench._serve DATA_DIR`` until
GET /.well-known/dspace-version answers 200, and RSS after start + 2 s idle. Baseline in the same
run: a bare FastAPI app with one route on uvicorn (``bench._minimal``).
Targets: start ≤ 2 s, idle RSS ≤ 150 MB.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench._common import free_port, load_average, machine, median, spawn, stop, wait_ready

RUNS = 5
IDLE_SECONDS = 2.0
TARGET_START_S = 2.0
TARGET_RSS_MB = 150.0


@dataclass(frozen=True)
class ColdStart:
    start_s: float
    rss_mb: float
    base_start_s: float
    base_rss_mb: float

    @property
    def start_ratio(self) -> float:
        return self.start_s / self.base_start_s

    @property
    def rss_ratio(self) -> float:
        return self.rss_mb / self.base_rss_mb


def _one(args: list[str], port: int, measure_rss: bool, pycache: Path) -> tuple[float, float]:
    started = time.monotonic()
    proc = spawn(args, pycache=pycache)
    try:
        answered = wait_ready(port, proc)
        rss = 0.0
        if measure_rss:
            time.sleep(IDLE_SECONDS)
            rss = psutil.Process(proc.pid).memory_info().rss / 1e6
        return answered - started, rss
    finally:
        stop(proc)


def measure(runs: int = RUNS) -> ColdStart:
    from allmende.setup_node import init_node

    with tempfile.TemporaryDirectory(prefix="allmende-bench-") as tmp:
        port = free_port()
        data_dir = Path(tmp) / "node"
        init_node(data_dir, name="Cold start", public_url=f"http://127.0.0.1:{port}", port=port)
        node_times: list[float] = []
        base_times: list[float] = []
        node_rss: list[float] = []
        base_rss: list[float] = []
        pycache = Path(tmp) / "pycache"
        # One unmeasured start of each warms the OS file cache and writes the bytecode cache, as an
        # installed package has it (we measure interpreter + imports + startup, not disk or compile).
        _one(["-m", "bench._serve", str(data_dir)], port, False, pycache)
        base_port = free_port()
        _one(["-m", "bench._minimal", str(base_port)], base_port, False, pycache)
        for i in range(runs):  # interleaved, so load from other users hits both alike
            measure_rss = i < 2
            t, r = _one(["-m", "bench._serve", str(data_dir)], port, measure_rss, pycache)
            node_times.append(t)
            if measure_rss:
                node_rss.append(r)
            t, r = _one(["-m", "bench._minimal", str(base_port)], base_port, measure_rss, pycache)
            base_times.append(t)
            if measure_rss:
                base_rss.append(r)
    return ColdStart(median(node_times), max(node_rss), median(base_times), max(base_rss))


def report(result: ColdStart) -> list[tuple[str, str, str, str]]:
    return [
        (
            "cold start to first 200",
            f"{result.start_s:.2f} s",
            f"{result.start_ratio:.2f}x bare FastAPI ({result.base_start_s:.2f} s)",
            f"<= {TARGET_START_S:.0f} s",
        ),
        (
            "idle RSS after start + 2 s",
            f"{result.rss_mb:.0f} MB",
            f"{result.rss_ratio:.2f}x bare FastAPI ({result.base_rss_mb:.0f} MB)",
            f"<= {TARGET_RSS_MB:.0f} MB",
        ),
    ]


def main() -> None:
    print(f"machine: {machine()}; load {load_average()}")
    result = measure()
    for name, figure, ratio, target in report(result):
        print(f"{name}: {figure}  ({ratio}; target {target})")


if __name__ == "__main__":
    main()
