"""Pull transfer throughput and node memory: two nodes as real processes on loopback, nginx as baseline.

``python -m bench.transfer [--size-gib 1] [--rss-size-gib 5] [--rounds 3]`` — the provider publishes a
file of real (incompressible, non-sparse) bytes, the consumer negotiates an open-use offer
(POST /api/v1/negotiations → FINALIZED) and starts a pull transfer (POST /api/v1/transfers → STARTED);
the data address gives the endpoint and the bearer token. Measured, interleaved, median of ``rounds``:

* ``curl`` pulling from the provider's data plane (token check, audit entry, streamed body) to /dev/null;
* the full consumer path, :func:`allmende.dataplane.download.download` in this process (streaming,
  running sha-256, digest check against Repr-Digest, fsync and atomic rename);
* baseline in the same run: nginx (Debian package, ``sendfile on``) serving the same file to ``curl``.

Also the provider's CPU time per GiB during the curl pulls (independent of other users' load).
Then the memory figure: while ``allmende transfer get`` (the CLI, its own process) pulls a file of
``--rss-size-gib``, the RSS of both node processes and of the CLI is sampled every 100 ms (psutil);
start and peak are reported ("flat" = peak − start < 50 MB). Targets (issue 3): curl from the node
≥ 50 % of nginx's throughput; node RSS flat while transferring 5 GiB.

The files live in a temporary folder and are deleted at the end; the script checks the free space
first and shrinks the memory run's file if it does not fit (it says so). nginx is not installed by
the script: without ``/usr/sbin/nginx`` (``apt-get install nginx``) the baseline is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench._common import free_port, load_average, machine, median, spawn, stop, wait_ready

GIB = 1 << 30
MB = 1_000_000
TARGET_RATIO = 0.5
FLAT_MB = 50.0
SAMPLE_S = 0.1
BLOCK = 16 << 20
NGINX_HINT = "nginx not found (baseline skipped); install it with: apt-get update && apt-get install -y nginx"


@dataclass(frozen=True)
class MemoryTrace:
    start_mb: float
    peak_mb: float

    @property
    def growth_mb(self) -> float:
        return self.peak_mb - self.start_mb


@dataclass
class TransferResult:
    size: int
    ours_curl_mbs: float
    download_mbs: float
    nginx_mbs: float | None
    provider_cpu_s_per_gib: float
    download_cpu_s_per_gib: float
    rss_size: int
    rss_note: str
    rss_pull_mbs: float
    memory: dict[str, MemoryTrace] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)

    @property
    def curl_ratio(self) -> float | None:
        return None if self.nginx_mbs is None else self.ours_curl_mbs / self.nginx_mbs

    @property
    def download_ratio(self) -> float | None:
        return None if self.nginx_mbs is None else self.download_mbs / self.nginx_mbs


def nginx_binary() -> str | None:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    return found


def _write_file(path: Path, size: int) -> None:
    """Real bytes (a random 16 MiB block repeated): nothing sparse, nothing compressible per block."""
    block = os.urandom(BLOCK)
    with path.open("wb") as out:
        left = size
        while left > 0:
            piece = block if left >= BLOCK else block[:left]
            out.write(piece)
            left -= len(piece)
        out.flush()
        os.fsync(out.fileno())


def _cpu_s(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def _curl(url: str, token: str | None, size: int) -> float:
    """Seconds for curl to pull ``url`` to /dev/null (checks status and size)."""
    args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url]
    if token is not None:
        args[1:1] = ["-H", f"Authorization: Bearer {token}"]
    started = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=600)
    elapsed = time.monotonic() - started
    status, got = done.stdout.split()
    if done.returncode != 0 or status != "200" or int(got) != size:
        raise RuntimeError(f"curl {url}: rc {done.returncode}, status {status}, {got} of {size} bytes")
    return elapsed


class Nginx:
    """nginx on 127.0.0.1 with a minimal config in a temp folder, serving ``root`` (sendfile on)."""

    def __init__(self, binary: str, root: Path, work: Path) -> None:
        self.port = free_port()
        work.mkdir(parents=True, exist_ok=True)
        (work / "logs").mkdir(exist_ok=True)
        conf = work / "nginx.conf"
        conf.write_text(
            f"""worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    types {{ }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{self.port};
        root {root};
    }}
}}
""",
            encoding="utf-8",
        )
        self.proc = subprocess.Popen(
            [binary, "-p", str(work), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=(work / "logs" / "stderr.log").open("wb"),
        )
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {(work / 'logs' / 'stderr.log').read_text()}")
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        stop(self.proc)  # SIGTERM: nginx's fast shutdown


class Sampler:
    """RSS of some processes every ``SAMPLE_S`` on a thread (MB); processes that are gone are skipped."""

    def __init__(self) -> None:
        self.procs: dict[str, psutil.Process] = {}
        self.samples: dict[str, list[float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, name: str, pid: int) -> None:
        self.procs[name] = psutil.Process(pid)
        self.samples.setdefault(name, [])

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, proc in list(self.procs.items()):
                with contextlib.suppress(psutil.Error):
                    self.samples[name].append(proc.memory_info().rss / MB)
            self._stop.wait(SAMPLE_S)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class Nodes:
    """Provider and consumer as ``python -m bench._serve`` processes, with admin API clients."""

    def __init__(self, tmp: Path) -> None:
        from allmende.setup_node import init_node

        self.p_port, self.c_port = free_port(), free_port()
        self.provider_url = f"http://127.0.0.1:{self.p_port}"
        self.consumer_url = f"http://127.0.0.1:{self.c_port}"
        self.consumer_dir = tmp / "consumer"
        p_node = init_node(tmp / "provider", name="Provider", public_url=self.provider_url, port=self.p_port)
        c_node = init_node(self.consumer_dir, name="Consumer", public_url=self.consumer_url, port=self.c_port)
        pycache = tmp / "pycache"
        self.procs = [
            spawn(["-m", "bench._serve", str(tmp / "provider")], log=tmp / "provider.log", pycache=pycache),
            spawn(["-m", "bench._serve", str(self.consumer_dir)], log=tmp / "consumer.log", pycache=pycache),
        ]
        wait_ready(self.p_port, self.procs[0])
        wait_ready(self.c_port, self.procs[1])
        self.provider = httpx.Client(
            base_url=self.provider_url, headers={"Authorization": f"Bearer {p_node.admin_key}"}, timeout=600
        )
        self.consumer = httpx.Client(
            base_url=self.consumer_url, headers={"Authorization": f"Bearer {c_node.admin_key}"}, timeout=60
        )

    def close(self) -> None:
        self.provider.close()
        self.consumer.close()
        for proc in self.procs:
            stop(proc)

    def agreement(self, path: Path) -> str:
        """Publish ``path`` (the provider hashes it), negotiate; the agreement id once FINALIZED."""
        created = self.provider.post(
            "/api/v1/assets",
            json={
                "path": str(path),
                "title": f"Bench {path.name}",
                "description": "Transfer benchmark data",
                "template": "open-use",
            },
        )
        created.raise_for_status()
        offer_id = created.json()["offer"]["id"]
        started = self.consumer.post(
            "/api/v1/negotiations", json={"address": self.provider_url, "offer_id": offer_id}
        )
        started.raise_for_status()
        final = self._until(f"/api/v1/negotiations/{started.json()['id']}", "FINALIZED")
        return str(final["agreementId"])

    def started_transfer(self, agreement_id: str) -> tuple[str, str | None]:
        """Start a pull transfer; (endpoint, token) from its data address."""
        from allmende.transfer.messages import read_data_address

        started = self.consumer.post("/api/v1/transfers", json={"agreement_id": agreement_id})
        started.raise_for_status()
        current = self._until(f"/api/v1/transfers/{started.json()['id']}", "STARTED")
        return read_data_address(current["dataAddress"])

    def _until(self, path: str, state: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            current: dict[str, Any] = self.consumer.get(path).json()
            if current["state"] == state:
                return current
            if current["state"] in ("TERMINATED",) or time.monotonic() > deadline:
                raise RuntimeError(f"{path} is {current['state']}, expected {state}: {current}")
            time.sleep(0.05)


async def _download(url: str, token: str | None, destination: Path) -> tuple[float, int]:
    from allmende.dataplane.download import download

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=15.0)) as client:
        started = time.monotonic()
        result = await download(client, url, destination, headers=headers)
        return time.monotonic() - started, result.size


def _space_plan(tmp: Path, size: int, rss_size: int) -> tuple[int, str]:
    """The memory run's file size that fits: it needs the file and the CLI's copy (2x), 1 GiB spare."""
    free = shutil.disk_usage(tmp).free
    needed_first = 2 * size + GIB
    if free < needed_first:
        raise SystemExit(
            f"not enough space in {tmp}: {free / GIB:.1f} GiB free, {needed_first / GIB:.1f} needed"
        )
    fits = (free - GIB) // 2 // GIB * GIB
    if fits >= rss_size:
        return rss_size, ""
    note = (
        f"only {free / GIB:.1f} GiB free in {tmp}: memory run with {fits / GIB:.0f} GiB "
        f"instead of {rss_size / GIB:.0f} GiB"
    )
    print(note, flush=True)
    return int(fits), note


def measure(size_gib: float = 1.0, rss_size_gib: float = 5.0, rounds: int = 3) -> TransferResult:
    size, rss_size = int(size_gib * GIB), int(rss_size_gib * GIB)
    nginx_bin = nginx_binary()
    if nginx_bin is None:
        print(NGINX_HINT, flush=True)
    with tempfile.TemporaryDirectory(prefix="allmende-bench-transfer-") as tmp_name:
        tmp = Path(tmp_name)
        rss_size, rss_note = _space_plan(tmp, size, rss_size)
        (tmp / "files").mkdir()
        # nginx's worker runs as another user (nobody) when started by root: let it reach the files.
        tmp.chmod(0o711)
        (tmp / "files").chmod(0o755)
        data = tmp / "files" / "data.bin"
        _write_file(data, size)
        nodes = Nodes(tmp)
        nginx: Nginx | None = None
        try:
            if nginx_bin is not None:
                nginx = Nginx(nginx_bin, tmp / "files", tmp / "nginx")
            endpoint, token = nodes.started_transfer(nodes.agreement(data))
            provider = psutil.Process(nodes.procs[0].pid)
            me = psutil.Process()
            # One unmeasured pull each: page cache warm, connections and code paths warmed up.
            _curl(endpoint, token, size)
            if nginx is not None:
                _curl(nginx.url(data.name), None, size)
            ours: list[float] = []
            base: list[float] = []
            downloads: list[float] = []
            provider_cpu: list[float] = []
            download_cpu: list[float] = []
            received = tmp / "received.bin"
            for _ in range(rounds):
                cpu0 = _cpu_s(provider)
                ours.append(size / _curl(endpoint, token, size) / MB)
                provider_cpu.append((_cpu_s(provider) - cpu0) / (size / GIB))
                if nginx is not None:
                    base.append(size / _curl(nginx.url(data.name), None, size) / MB)
                cpu0 = _cpu_s(me)
                seconds, got = asyncio.run(_download(endpoint, token, received))
                download_cpu.append((_cpu_s(me) - cpu0) / (size / GIB))
                if got != size:
                    raise RuntimeError(f"download() returned {got} of {size} bytes")
                downloads.append(size / seconds / MB)
                received.unlink()
            data.unlink()

            big = tmp / "files" / "big.bin"
            _write_file(big, rss_size)
            agreement = nodes.agreement(big)
            time.sleep(1.0)  # let the nodes settle after hashing and negotiating
            sampler = Sampler()
            sampler.watch("provider node", nodes.procs[0].pid)
            sampler.watch("consumer node", nodes.procs[1].pid)
            sampler.start()
            time.sleep(0.5)  # the start figure: a few samples before the pull
            before = {name: len(values) for name, values in sampler.samples.items()}
            out = tmp / "big-received.bin"
            env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "100"}
            cli = subprocess.Popen(
                [
                    sys.executable, "-m", "allmende.cli", "transfer", "get", agreement,
                    "-o", str(out), "--data-dir", str(nodes.consumer_dir), "--json",
                ],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            )  # fmt: skip
            started = time.monotonic()
            sampler.watch("transfer get (CLI)", cli.pid)
            stdout, _ = cli.communicate(timeout=900)
            rss_pull_s = time.monotonic() - started
            time.sleep(0.5)
            sampler.close()
            if cli.returncode != 0:
                raise RuntimeError(f"allmende transfer get failed with {cli.returncode}")
            summary = json.loads(stdout)
            if summary["bytes"] != rss_size:
                raise RuntimeError(f"transfer get wrote {summary['bytes']} of {rss_size} bytes")
            out.unlink()
            big.unlink()
        finally:
            if nginx is not None:
                nginx.close()
            nodes.close()
    memory = {}
    for name, values in sampler.samples.items():
        if not values:
            continue
        # Nodes: the median of the samples before the CLI started; the CLI: the median of its samples.
        start = median(values[: before[name]]) if before.get(name) else median(values)
        memory[name] = MemoryTrace(start, max(values))
    return TransferResult(
        size=size,
        ours_curl_mbs=median(ours),
        download_mbs=median(downloads),
        nginx_mbs=median(base) if base else None,
        provider_cpu_s_per_gib=median(provider_cpu),
        download_cpu_s_per_gib=median(download_cpu),
        rss_size=rss_size,
        rss_note=rss_note,
        rss_pull_mbs=rss_size / rss_pull_s / MB,
        memory=memory,
        samples=sampler.samples,
    )


def report(result: TransferResult) -> list[tuple[str, str, str, str]]:
    gib = f"{result.size / GIB:g} GiB"
    nginx = f"nginx+curl {result.nginx_mbs:.0f} MB/s" if result.nginx_mbs is not None else "no nginx"
    curl_ratio = f"{result.curl_ratio:.2f}x {nginx}" if result.curl_ratio is not None else NGINX_HINT
    dl_ratio = f"{result.download_ratio:.2f}x {nginx}" if result.download_ratio is not None else "-"
    rows = [
        (f"pull {gib}, node -> curl (token check)", f"{result.ours_curl_mbs:.0f} MB/s", curl_ratio,
         f">= {TARGET_RATIO:.0%} of nginx"),
        (f"pull {gib}, download() (digest, fsync)", f"{result.download_mbs:.0f} MB/s", dl_ratio, ""),
        ("CPU per GiB pulled", f"{result.provider_cpu_s_per_gib:.2f} s provider",
         f"download() {result.download_cpu_s_per_gib:.2f} s (client, hashing + writing)", ""),
    ]  # fmt: skip
    for name, trace in result.memory.items():
        if "CLI" in name:  # a fresh process: its "start" is its median over the pull (imports done)
            figure = f"{trace.start_mb:.0f} median, peak {trace.peak_mb:.0f} MB"
            ratio = f"CLI pull {result.rss_pull_mbs:.0f} MB/s incl. start-up"
        else:
            flat = "flat" if trace.growth_mb < FLAT_MB else "NOT flat"
            figure = f"{trace.start_mb:.0f} -> peak {trace.peak_mb:.0f} MB"
            ratio = f"+{trace.growth_mb:.0f} MB ({flat})"
        target = "flat" if "node" in name else ""
        rows.append((f"RSS {name}, pulling {result.rss_size / GIB:g} GiB", figure, ratio, target))
    if result.rss_note:
        rows.append(("note", result.rss_note, "", ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.transfer")
    parser.add_argument("--size-gib", type=float, default=1.0, help="file for the throughput figures")
    parser.add_argument("--rss-size-gib", type=float, default=5.0, help="file for the memory figure")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed: apt-get install -y curl")
    print(f"machine: {machine()}; load {load_average()}")
    result = measure(args.size_gib, args.rss_size_gib, args.rounds)
    for name, figure, ratio, target in report(result):
        print(f"{name}: {figure}  ({ratio}{'; target ' + target if target else ''})")
    print(f"load at the end: {load_average()}")


if __name__ == "__main__":
    main()
