"""A real three-master Redis Cluster for the tests, from the installed ``redis-server``.

:func:`start` launches three ``redis-server --cluster-enabled yes`` processes on free
loopback ports in a temporary directory, joins them with ``redis-cli --cluster create``
(no replicas) and waits until every node reports ``cluster_state:ok``; :func:`stop`
ends them and removes the directory. One cluster serves the whole test session
(tests/engines.py starts it when first needed).
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"
MASTERS = 3
READY_WITHIN = 30.0  # seconds


class Unavailable(Exception):
    """The cluster could not be started (no redis-server, a node failed, no quorum)."""


class _Cluster:
    def __init__(self, workdir: Path, ports: list[int],
                 processes: list[subprocess.Popen[bytes]]) -> None:
        self.workdir, self.ports, self.processes = workdir, ports, processes

    @property
    def uri(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)


_running: _Cluster | None = None


def uri() -> str | None:
    """The running cluster's ``redis+cluster://`` URI, or None."""
    return _running.uri if _running else None


def start() -> str:
    """Start the session's cluster unless it runs; returns its URI. Raises Unavailable."""
    global _running
    if _running is not None:
        return _running.uri
    for binary in (REDIS_SERVER, REDIS_CLI):
        if not Path(binary).exists():
            raise Unavailable(f"{binary} is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="zaqar-redis-cluster-"))
    ports = _free_ports(MASTERS)
    processes = [_launch(workdir, port) for port in ports]
    cluster = _Cluster(workdir, ports, processes)
    try:
        for port in ports:
            _wait(lambda port=port: _cli(port, "PING") == "PONG", f"node {port} to answer")
        created = subprocess.run(
            [REDIS_CLI, "--cluster", "create", *(f"127.0.0.1:{port}" for port in ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True, text=True, timeout=READY_WITHIN)
        if created.returncode != 0:
            raise Unavailable(f"redis-cli --cluster create failed: {created.stdout[-500:]}"
                              f"{created.stderr[-500:]}")
        for port in ports:
            _wait(lambda port=port: "cluster_state:ok" in _cli(port, "CLUSTER", "INFO"),
                  f"node {port} to report cluster_state:ok")
    except BaseException:
        _stop(cluster)
        raise
    _running = cluster
    return cluster.uri


def stop() -> None:
    global _running
    if _running is not None:
        _stop(_running)
        _running = None


def _stop(cluster: _Cluster) -> None:
    for process in cluster.processes:
        process.terminate()
    for process in cluster.processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    shutil.rmtree(cluster.workdir, ignore_errors=True)


def _launch(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    node = workdir / str(port)
    node.mkdir()
    log = open(node / "redis.log", "wb")  # noqa: SIM115 (the process holds it)
    return subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(node),
         "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
         "--cluster-node-timeout", "5000", "--appendonly", "no", "--save", "",
         "--maxmemory-policy", "noeviction"],
        stdout=log, stderr=subprocess.STDOUT)


def _cli(port: int, *command: str) -> str:
    try:
        return subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), *command],
                              capture_output=True, text=True, timeout=5).stdout.strip()
    except subprocess.TimeoutExpired:
        return ""


def _wait(ready, what: str) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while not ready():
        if time.monotonic() > deadline:
            raise Unavailable(f"gave up waiting for {what}")
        time.sleep(0.1)


def _free_ports(count: int) -> list[int]:
    """Ports free now whose cluster bus ports (port + 10000) are free too."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + 10000 < 65536 and port not in ports and _is_free(port + 10000):
            ports.append(port)
    return ports


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
