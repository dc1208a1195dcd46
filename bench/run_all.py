"""``make bench``: every benchmark in sequence, then one summary table (figure, vs baseline, target).

Each benchmark measures its own baseline in the same run; see docs/benchmarks.md. Takes about 7 minutes
(the transfer benchmark needs nginx for its baseline and ~10 GiB of free space in the temp folder), plus
several minutes for the network simulation of up to 1,000 nodes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench import (
    benchmark_round,
    catalog,
    cold_start,
    compute,
    knowledge_search,
    negotiations,
    network,
    transfer,
)
from bench._common import load_average, machine


def main() -> None:
    print(f"machine: {machine()}")
    rows: list[tuple[str, str, str, str]] = []
    runs: tuple[tuple[str, Callable[[], list[tuple[str, str, str, str]]]], ...] = (
        ("cold_start", lambda: cold_start.report(cold_start.measure())),
        ("negotiations", lambda: negotiations.report(negotiations.measure())),
        ("catalog", lambda: catalog.report(catalog.measure())),
        ("transfer", lambda: transfer.report(transfer.measure())),
        ("network", lambda: network.report(network.measure())),
        ("benchmark_round", lambda: benchmark_round.report(benchmark_round.measure())),
        ("knowledge_search", lambda: knowledge_search.report(knowledge_search.measure())),
        ("compute", lambda: compute.report(compute.measure())),
    )
    for name, run in runs:
        started = time.monotonic()
        print(f"running bench.{name} (load {load_average()}) ...", flush=True)
        result = run()
        rows.extend(result)
        print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
    widths = [
        max(len(row[i]) for row in [*rows, ("benchmark", "figure", "vs baseline", "target")])
        for i in range(4)
    ]
    print()
    for row in [("benchmark", "figure", "vs baseline", "target"), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(f"\nload average at the end: {load_average()} (2 shared cores: other users' load skews figures)")


if __name__ == "__main__":
    main()
