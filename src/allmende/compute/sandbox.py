"""The bubblewrap sandbox for Python jobs: what is visible inside, the bwrap command, and job uids.

Inside the sandbox there is nothing but: the interpreter binary, its standard library and shared library,
the system's shared libraries (``/usr/lib``, ``/usr/lib64`` and the ``/lib`` links), the site-packages
entries of numpy and pandas and their requirements (found from the running interpreter), the job's inputs
read-only under ``/input``, the script and the launcher read-only under ``/job``, a size-limited tmpfs
``/output`` and ``/tmp``, a fresh ``/proc`` of the sandbox's own PID namespace and a minimal ``/dev``.
No ``/etc`` (but ``ld.so.cache``), no ``/home``, no ``/var``, no ``/usr/bin``, no node data folder.
New PID, network, IPC, UTS and cgroup namespaces; ``--die-with-parent``, ``--new-session``,
``--clearenv``; no capabilities but the two the launcher needs to drop to the job's uid.

Run as root (as tests, CI and container installs do) each job gets its own unprivileged uid/gid from a
pool (``uid_base`` + slot, slots claimed with ``flock`` so several worker processes never share one),
because the kernel does not apply ``RLIMIT_NPROC`` to root: with its own uid a fork bomb stops at the
limit. Run as an ordinary user, bwrap creates a user namespace and the job runs as that user; the
process limit then counts only the sandbox's processes (per-user-namespace counts, Linux ≥ 5.14).
"""

from __future__ import annotations

import fcntl
import importlib.metadata as metadata
import os
import re
import shutil
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = Path(__file__).with_name("_launcher.py")
SANDBOX_PACKAGES = ("numpy", "pandas")
DEFAULT_UID_BASE = 1_900_000_000
DEFAULT_UID_SLOTS = 256


class SandboxUnavailable(RuntimeError):
    """Bubblewrap or the interpreter layout cannot give a sandbox here; the message says why."""


@dataclass(frozen=True)
class Layout:
    """Host paths bound read-only into every sandbox (at the same paths), found once per process."""

    interpreter: str
    read_only: tuple[str, ...]
    links: tuple[tuple[str, str], ...]
    site_dirs: tuple[str, ...]


_layout: Layout | None = None
_layout_lock = threading.Lock()


def layout() -> Layout:
    """The sandbox layout of the running interpreter (cached); :class:`SandboxUnavailable` if incomplete."""
    global _layout
    with _layout_lock:
        if _layout is None:
            _layout = _discover()
        return _layout


def _discover() -> Layout:
    interpreter = os.path.realpath(sys.executable)
    stdlib = os.path.realpath(os.path.dirname(os.__file__))
    paths: list[str] = [interpreter, stdlib]
    dynload = [os.path.realpath(p) for p in sys.path if p.endswith("lib-dynload") and os.path.isdir(p)]
    paths.extend(p for p in dynload if not p.startswith(stdlib + os.sep))
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        libdir = str(sysconfig.get_config_var("LIBDIR") or "")
        soname = str(sysconfig.get_config_var("INSTSONAME") or "")
        shared = os.path.join(libdir, soname)
        if libdir and soname and os.path.isfile(shared):
            paths.append(os.path.realpath(shared))
    links: list[tuple[str, str]] = []
    for system in ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/lib32", "/usr/lib32"):
        if os.path.islink(system):
            links.append((os.readlink(system), system))
        elif os.path.isdir(system):
            paths.append(system)
    if os.path.isfile("/etc/ld.so.cache"):
        paths.append("/etc/ld.so.cache")
    entries, site_dirs = _package_entries(SANDBOX_PACKAGES)
    paths.extend(entries)
    return Layout(interpreter, _outermost(paths), tuple(links), site_dirs)


def _package_entries(names: Sequence[str]) -> tuple[list[str], tuple[str, ...]]:
    """Top-level site-packages entries of ``names`` and everything they require (extras aside)."""
    todo = list(names)
    seen: set[str] = set()
    entries: list[str] = []
    site_dirs: list[str] = []
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if name in names:
                raise SandboxUnavailable(f"{name} is not installed for {sys.executable}") from None
            continue
        location = os.path.realpath(str(dist.locate_file("")))
        if location not in site_dirs:
            site_dirs.append(location)
        for file in dist.files or []:
            top = file.parts[0] if file.parts else ""
            if top in ("", "..", ".") or top.endswith(".pth") or top == "__pycache__":
                continue
            entry = os.path.join(location, top)
            if os.path.exists(entry) and entry not in entries:
                entries.append(entry)
        for requirement in dist.requires or []:
            if "extra ==" in requirement.replace('"', "").replace("'", ""):
                continue
            todo.append(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
    return entries, tuple(site_dirs)


def _outermost(paths: Sequence[str]) -> tuple[str, ...]:
    """The paths without those already inside another one (bound once, via their ancestor)."""
    unique = sorted(set(paths))
    kept: list[str] = []
    for path in unique:
        if not any(path.startswith(parent.rstrip("/") + "/") for parent in kept):
            kept.append(path)
    return tuple(kept)


def bwrap_path() -> str | None:
    """Where bubblewrap is: ``ALLMENDE_BWRAP`` if set, else ``bwrap`` on PATH or in /usr/bin."""
    configured = os.environ.get("ALLMENDE_BWRAP")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("bwrap") or ("/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None)


@dataclass(frozen=True)
class Mounts:
    """What one job adds to the layout: its files, and the sizes of its tmpfs folders."""

    script: Path
    inputs: tuple[tuple[Path, str], ...]  # host file, name under /input
    output_bytes: int
    tmp_bytes: int


def bwrap_command(
    bwrap: str, base: Layout, mounts: Mounts, env: dict[str, str], config: dict[str, str], root: bool
) -> list[str]:
    """The full bwrap argument list for one job (the launcher runs as the sandbox's first process)."""
    args = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if root:
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns"]
    # --as-pid-1: the launcher is the namespace's init, so bwrap returns only once it has exited, and by
    # then the kernel has killed every other process in the namespace (no stragglers after a job).
    args += ["--as-pid-1", "--die-with-parent", "--new-session", "--clearenv", "--hostname", "sandbox"]
    for key, value in sorted(env.items()):
        args += ["--setenv", key, value]
    # /proc, /dev and /tmp first: the libraries' binds go on top, so a tmpfs /tmp never hides an
    # interpreter or site-packages that live under /tmp on the host (e.g. a virtual environment there).
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(mounts.tmp_bytes), "--tmpfs", "/tmp"]
    made: set[str] = {"/proc", "/dev", "/tmp"}
    for path in base.read_only:
        args += _parents(path, made)
        args += ["--ro-bind", path, path]
    for target, link in base.links:
        args += ["--symlink", target, link]
    args += ["--size", str(mounts.output_bytes), "--tmpfs", "/output"]
    args += ["--dir", "/input", "--dir", "/job"]
    for host, name in mounts.inputs:
        args += ["--ro-bind", str(host), f"/input/{name}"]
    args += ["--ro-bind", str(mounts.script), "/job/script.py"]
    args += ["--ro-bind", str(LAUNCHER), "/job/launcher.py"]
    args += ["--remount-ro", "/", "--chdir", "/output"]
    args += [base.interpreter, "-I", "-S", "-B", "/job/launcher.py"]
    args += [f"{key}={value}" for key, value in config.items()]
    return args


def _parents(path: str, made: set[str]) -> list[str]:
    """``--dir`` for each missing ancestor, so they are 0755 (bwrap would copy the host's modes)."""
    args: list[str] = []
    parts = Path(path).parent.parts[1:]
    current = ""
    for part in parts:
        current += "/" + part
        if current not in made:
            made.add(current)
            args += ["--dir", current]
    return args


class UidPool:
    """Unprivileged uid/gid pairs for jobs run as root, one per running job across all processes."""

    def __init__(
        self, base: int = DEFAULT_UID_BASE, slots: int = DEFAULT_UID_SLOTS, lock_dir: Path | None = None
    ):
        self.base = base
        self.slots = slots
        self.lock_dir = lock_dir or Path(tempfile.gettempdir()) / "allmende-sandbox-uids"
        self._next = 0
        self._lock = threading.Lock()

    @contextmanager
    def claim(self) -> Iterator[int]:
        """A uid no other job holds while the block runs; raises :class:`SandboxUnavailable` if none."""
        self.lock_dir.mkdir(mode=0o700, exist_ok=True)
        with self._lock:
            start = self._next
            self._next = (self._next + 1) % self.slots
        for step in range(self.slots):
            slot = (start + step) % self.slots
            fd = os.open(self.lock_dir / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield self.base + slot
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            return
        raise SandboxUnavailable(f"all {self.slots} sandbox uids are in use; too many Python jobs at once")
