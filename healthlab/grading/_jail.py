"""The sandbox's first process: builds the student's world, runs their notebook, ends it all.

Started by :mod:`healthlab.grading.sandbox` as ``python -I .../_jail.py CONFIG``
inside fresh network, mount, pid, ipc and uts namespaces (``unshare``), so it is process 1 of
its own pid namespace, root there, and never runs student code itself. It

1. builds a private root on a small tmpfs: read-only binds of the system folders, Python, the
   virtual environment, the healthlab package and the prebuilt dataset cache; a fresh ``/proc``;
   a few ``/dev`` nodes; size-capped tmpfs for ``/tmp`` and the student's home. Nothing else of
   the machine exists in it: no source notebook, secret, gradebook, grades or other submission;
2. chroots there, brings up the loopback (the kernel talks to the runner over it) and writes the
   student's notebook into the home folder;
3. forks the untrusted process: rlimits, no capabilities, no new privileges, a uid of its own
   (as real root), then the runner on the notebook (:mod:`healthlab.grading._execute`);
4. waits for it with the total wall-time limit, then kills every process left in the namespace
   (a background process cannot outlive the run) and copies out, size-capped, the files the
   grader reads as plain JSON: the answers, the run status and the executed notebook. Its own
   report (how the run ended) is written last.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import resource
import signal
import socket
import struct
import sys
import time
from pathlib import Path

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 38, 24, 28
SECBIT_NOROOT = 0x3  # uid 0 gains no capability through exec (and the bit is locked)
HOME = "/home/student"
DATA = "/data/healthlab"
RLIMITS = {
    "memory": (resource.RLIMIT_AS, 1 << 20),
    "data": (resource.RLIMIT_DATA, 1 << 20),
    "processes": (resource.RLIMIT_NPROC, 1),
    "file_mb": (resource.RLIMIT_FSIZE, 1 << 20),
    "cpu_seconds": (resource.RLIMIT_CPU, 1),
    "open_files": (resource.RLIMIT_NOFILE, 1),
}

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype=None, flags=0, data=None) -> None:
    enc = [None if v is None else str(v).encode() for v in (source, target, fstype, data)]
    if _libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _bind_readonly(source: str, target: str) -> None:
    _mount(source, target, flags=MS_BIND | MS_REC)
    st = os.statvfs(source)
    locked = (st.f_flag & os.ST_NODEV and MS_NODEV) | (st.f_flag & os.ST_NOEXEC and MS_NOEXEC)
    _mount(None, target, flags=MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | locked)


def _place(root: Path, path: str, kind: str) -> Path:
    target = root / path.lstrip("/")
    if kind == "dir":
        target.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    return target


def build_root(config: dict) -> None:
    """Mount the private root described by ``config`` and chroot into it."""
    root = Path(config["root"])
    uid, gid = config["uid"], config["gid"]
    _mount(None, "/", flags=MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=755")
    # The writable tmpfs folders first: a checkout or venv under /tmp is bound inside them
    # afterwards, where a later /tmp mount would hide it.
    size, safe = f"size={config['disk_mb']}m", MS_NOSUID | MS_NODEV
    _mount("tmpfs", _place(root, "/dev/shm", "dir"), "tmpfs", safe, f"{size},mode=1777")
    _mount("tmpfs", _place(root, "/tmp", "dir"), "tmpfs", safe, f"{size},mode=1777")
    for path in config["system"]:  # /usr, /etc, ... and the /bin -> usr/bin links
        if os.path.islink(path):
            (root / path.lstrip("/")).symlink_to(os.readlink(path))
        elif os.path.isdir(path):
            _bind_readonly(path, str(_place(root, path, "dir")))
    for path in config["readonly"]:  # Python, the venv, the package, the cards
        if os.path.exists(path):
            _bind_readonly(path, str(_place(root, path, "dir")))
    _bind_readonly(config["data"], str(_place(root, DATA, "dir")))
    for node in ("null", "zero", "full", "random", "urandom"):
        _mount(f"/dev/{node}", _place(root, f"/dev/{node}", "file"), flags=MS_BIND)
    (root / "dev/fd").symlink_to("/proc/self/fd")
    home = _place(root, HOME, "dir")
    _mount("tmpfs", home, "tmpfs", safe, f"{size},mode=700,uid={uid},gid={gid}")
    proc = _place(root, "/proc", "dir")
    _mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount(None, root, flags=MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)
    os.chdir(HOME)


def loopback_up() -> None:
    """Bring up ``lo`` in the new network namespace (ZeroMQ between the runner and the kernel)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", 0x1 | 0x8 | 0x40))  # SIOCSIFFLAGS


def _drop_privileges(config: dict) -> None:
    for name, (which, unit) in RLIMITS.items():
        value = config["limits"].get(name)
        if value:
            resource.setrlimit(which, (int(value * unit), int(value * unit)))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for cap in range(64):  # empty the bounding set: no capability can come back through exec
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EINVAL:
            break
    _libc.prctl(PR_SET_SECUREBITS, SECBIT_NOROOT, 0, 0, 0)
    if config["uid"] != os.getuid():
        os.setgroups([])
        os.setgid(config["gid"])
        os.setuid(config["uid"])
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    os.umask(0o077)


def _spawn(config: dict) -> int:
    log = os.open(f"{HOME}/.run.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchown(log, config["uid"], config["gid"])
    pid = os.fork()
    if pid:
        os.close(log)
        return pid
    try:
        os.setsid()
        os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.closerange(3, 65536)
        _drop_privileges(config)
        os.execve(
            config["python"],
            [config["python"], "-I", config["script"], f"{HOME}/.run.json"],
            config["env"],
        )
    except BaseException as err:  # never return into the supervisor's code
        os.write(2, f"sandbox: cannot start the notebook: {err}\n".encode())
    os._exit(127)


def _others() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]


def _kill_all() -> None:
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass


def supervise(config: dict, out_fd: int) -> dict:
    """Run the untrusted process to its end (or the deadline); return the trusted report."""
    started = time.monotonic()
    pid = _spawn(config)
    deadline = started + config["total_timeout"]
    report = {"exit": None, "timed_out": False, "left_running": 0}
    while True:
        try:
            done, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if done == pid:
            report["exit"] = os.waitstatus_to_exitcode(status)
            break
        if done == 0:
            if time.monotonic() > deadline:
                report["timed_out"] = True
                _kill_all()
            time.sleep(0.02)
    report["left_running"] = len(_others())
    _kill_all()  # every process the student started, wherever it went
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    report["seconds"] = round(time.monotonic() - started, 3)
    for name, source, cap in config["collect"]:
        report[name] = _copy_out(source, out_fd, name, cap)
    return report


def _copy_out(source: str, out_fd: int, name: str, cap: int) -> str:
    """Copy a regular file (no symlink) of at most ``cap`` bytes to the grader's folder."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return "missing"
    try:
        info = os.fstat(fd)
        if not (info.st_mode & 0o170000 == 0o100000):
            return "not a regular file"
        if info.st_size > cap:
            return f"too large ({info.st_size:,} bytes, cap {cap:,})"
        data = os.read(fd, cap + 1)
    finally:
        os.close(fd)
    out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=out_fd)
    with os.fdopen(out, "wb") as fh:
        fh.write(data[:cap])
    return "copied"


def main(argv: list[str]) -> int:
    config = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    out_fd = os.open(config["out"], os.O_RDONLY | os.O_DIRECTORY)
    # Read on the machine's side, written into the home folder once the root is built.
    files = {"notebook.ipynb": Path(config["notebook"]).read_bytes()}
    files[".run.json"] = json.dumps(config["run"]).encode()
    for source, name in config.get("home_files", []):
        if os.path.isfile(source):
            files[name] = Path(source).read_bytes()
    report: dict = {}
    try:
        build_root(config)
        loopback_up()
        for name, body in files.items():
            path = Path(HOME, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            for p in [path, *path.parents]:
                if p == Path(HOME):
                    break
                os.chown(p, config["uid"], config["gid"])
        report = supervise(config, out_fd)
    except Exception as err:  # the grader records it; no student code ran before this point
        report["setup_error"] = f"{type(err).__name__}: {err}"
    fd = os.open("report.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=out_fd)
    with os.fdopen(fd, "w") as fh:
        json.dump(report, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
