"""Runs inside the bubblewrap sandbox (``python -I -S -B /job/launcher.py KEY=VALUE...``).

It starts as the sandbox's root with only CAP_SETUID/CAP_SETGID (or, without root, as the node's user in
a user namespace). It forks the job: the child drops to the job's own unprivileged uid/gid, sets the
rlimits, and runs ``/job/script.py`` as ``__main__``. The parent waits, then hands the host the exit
status, CPU time and the result file (``/output/result.csv`` or ``/output/result.json``, bounded) over its
own pipe, which the job never holds. The host trusts none of it beyond sizes it checks itself; the kernel
(namespaces, rlimits, the uid) is what contains the job.

Only modules that cost nothing to import (``os``, ``sys``, ``errno``, ``resource``, ``stat``): the job's
start overhead is part of every job. Arguments and the report are plain ``key=value`` text, not JSON.
"""

from __future__ import annotations

import errno
import os
import resource
import stat
import sys

RESULT_NAMES = ("result.csv", "result.json")
SCRIPT = "/job/script.py"
EXIT_MEMORY = 101
EXIT_SPACE = 102
EXIT_PROCESSES = 103
EXIT_NETWORK = 104
EXIT_FILE_ACCESS = 105
MARKER = "##allmende-sandbox## "
ALLOWED_ROOTS = ("/input/", "/output/", "/tmp/", "/job/")  # the job's own folders
_NETWORK_ERRNOS = {
    errno.ENETUNREACH,
    errno.EHOSTUNREACH,
    errno.ECONNREFUSED,
    errno.EADDRNOTAVAIL,
    errno.ENETDOWN,
}


def encode_report(fields: dict[str, str]) -> bytes:
    """One line of tab-separated ``key=value`` pairs (values without tabs or line ends)."""
    clean = {key: value.replace("\t", " ").replace("\n", " ") for key, value in fields.items()}
    return ("\t".join(f"{key}={value}" for key, value in clean.items()) + "\n").encode("utf-8")


def decode_report(line: bytes) -> dict[str, str]:
    """The fields of a report line (see :func:`encode_report`); malformed parts are skipped."""
    fields: dict[str, str] = {}
    for part in line.decode("utf-8", "replace").rstrip("\n").split("\t"):
        key, sep, value = part.partition("=")
        if sep:
            fields[key] = value
    return fields


def main() -> None:
    config = dict(arg.split("=", 1) for arg in sys.argv[1:])
    result_fd = int(config["result_fd"])
    for path in ("/output", "/tmp"):
        os.chmod(path, 0o1777)
    pid = os.fork()
    if pid == 0:
        os.close(result_fd)
        _child(config)
    _, status, usage = os.wait4(pid, 0)
    report = {
        "exit": str(os.WEXITSTATUS(status)) if os.WIFEXITED(status) else "",
        "signal": str(os.WTERMSIG(status)) if os.WIFSIGNALED(status) else "",
        "cpu_seconds": f"{usage.ru_utime + usage.ru_stime:.3f}",
        "result": "",
        "size": "0",
        "problem": "",
    }
    data = _read_result(report, int(config["max_output_bytes"])) if report["exit"] == "0" else b""
    with os.fdopen(result_fd, "wb") as out:
        out.write(encode_report(report) + data)


def _read_result(report: dict[str, str], limit: int) -> bytes:
    present = [name for name in RESULT_NAMES if os.path.lexists("/output/" + name)]
    if len(present) > 1:
        report["problem"] = "the job wrote both result.csv and result.json; write one of them"
        return b""
    if not present:
        return b""
    name = present[0]
    try:
        fd = os.open("/output/" + name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        report["problem"] = f"the result file cannot be read ({exc.strerror}); it must be a plain file"
        return b""
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            report["problem"] = "the result must be a plain file"
            return b""
        data = handle.read(limit + 1)
    report["result"] = name
    report["size"] = str(len(data))
    if len(data) > limit:
        report["problem"] = "too large"
        return b""
    return data


def _child(config: dict[str, str]) -> None:
    code = 1
    try:
        if config.get("uid"):
            os.setgroups([])
            os.setgid(int(config["gid"]))
            os.setuid(int(config["uid"]))
        cpu = int(config["cpu_seconds"])
        memory = int(config["memory_bytes"])
        output = int(config["max_output_bytes"])
        nproc = int(config["nproc"])
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (output, output))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        sys.path.extend(part for part in config.get("site_dirs", "").split(os.pathsep) if part)
        sys.argv = [SCRIPT]
        code = _run_script()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _run_script() -> int:
    module = type(sys)("__main__")
    module.__file__ = SCRIPT
    sys.modules["__main__"] = module
    try:
        with open(SCRIPT, "rb") as handle:
            source = handle.read()
        exec(compile(source, SCRIPT, "exec"), module.__dict__)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code & 0xFF
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException as exc:
        _print_traceback(exc)
        code, detail = _classify(exc)
        if detail:
            print(f"{MARKER}{detail}", file=sys.stderr)
        return code
    return 0


def _print_traceback(exc: BaseException) -> None:
    try:
        import traceback

        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != SCRIPT:
            tb = tb.tb_next
        traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
    except BaseException:  # e.g. no memory left to format it: the reason still comes from the exit code
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)


def _classify(exc: BaseException) -> tuple[int, str]:
    """Exit code and detail for a failure the host can name (memory, space, processes, network, files)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _classify_one(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return 1, ""


def _classify_one(exc: BaseException) -> tuple[int, str] | None:
    if isinstance(exc, MemoryError):
        return EXIT_MEMORY, ""
    if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
        return EXIT_PROCESSES, "thread"
    socket_module = sys.modules.get("socket")
    if socket_module is not None and isinstance(exc, socket_module.gaierror):
        return EXIT_NETWORK, "name lookup"
    if not isinstance(exc, OSError):
        return None
    if exc.errno in (errno.EFBIG, errno.ENOSPC, errno.EDQUOT):
        return EXIT_SPACE, str(exc.filename or "")
    if exc.errno == errno.EAGAIN and exc.filename is None:
        return EXIT_PROCESSES, "fork"
    if exc.errno in _NETWORK_ERRNOS:
        return EXIT_NETWORK, "connect"
    if exc.errno in (errno.ENOENT, errno.EACCES, errno.EPERM) and exc.filename is not None:
        path = os.path.normpath(os.path.join("/output", os.fsdecode(exc.filename)))
        if _outside(path):
            return EXIT_FILE_ACCESS, path[:200]
    return None


def _outside(path: str) -> bool:
    """A path outside the job's folders; under /tmp, one whose folder the job never made (a host path)."""
    if (path + "/").startswith(ALLOWED_ROOTS):
        return path.startswith("/tmp/") and not os.path.isdir(os.path.dirname(path))
    return True


if __name__ == "__main__":
    main()
