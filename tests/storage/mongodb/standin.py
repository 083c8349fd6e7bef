"""The MongoDB wire-protocol stand-in the tests use where no MongoDB is at hand.

No MongoDB server package installs on these machines, so the tests run against
``nx-27017`` (PyPI: a MongoDB wire-protocol server over SQLite, a test extra), started
on a free loopback port with in-memory databases, once per test session (or per
process that asks). docs/storage.md says what it does not cover.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymongo

START_TIMEOUT = 15.0  # seconds


class Unavailable(Exception):
    """The stand-in is not installed or did not start."""


_running: dict[str, object] = {}


def uri() -> str | None:
    """The running stand-in's URI, if this process started one."""
    found = _running.get("uri")
    return found if isinstance(found, str) else None


def command() -> list[str]:
    """The stand-in's command line, without its options. Raises Unavailable."""
    script = Path(sys.executable).with_name("nx-27017")
    found = str(script) if script.exists() else shutil.which("nx-27017")
    if found is None:
        raise Unavailable("nx-27017 is not installed (pip install nx-27017, or the "
                          "'test' extra)")
    return [found]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start() -> str:
    """Start the stand-in (once per process) and return its URI. Raises Unavailable."""
    if uri() is not None:
        return uri() or ""
    launcher = command()
    workdir = tempfile.mkdtemp(prefix="zaqar-nx27017-")
    port = _free_port()
    log = open(os.path.join(workdir, "out.log"), "wb")  # noqa: SIM115 (kept while it runs)
    process = subprocess.Popen(
        [*launcher, "--host", "127.0.0.1", "--port", str(port), "--data-dir", "memory",
         "--log-file", os.path.join(workdir, "nx.log"),
         "--pid-file", os.path.join(workdir, "nx.pid")],
        stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    address = f"mongodb://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    client: pymongo.MongoClient = pymongo.MongoClient(address, serverSelectionTimeoutMS=200)
    try:
        while True:
            try:
                client.admin.command("ping")
                break
            except pymongo.errors.PyMongoError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    log.close()
                    output = Path(workdir, "out.log").read_text(errors="replace")[-2000:]
                    raise Unavailable(f"nx-27017 did not start on port {port}: {output}") \
                        from None
                time.sleep(0.1)
    finally:
        client.close()
    _running.update(uri=address, process=process, log=log, workdir=workdir)
    return address


def stop() -> None:
    process = _running.pop("process", None)
    if isinstance(process, subprocess.Popen):
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log = _running.pop("log", None)
    if log is not None:
        log.close()  # type: ignore[attr-defined]
    workdir = _running.pop("workdir", None)
    if isinstance(workdir, str):
        shutil.rmtree(workdir, ignore_errors=True)
    _running.pop("uri", None)
