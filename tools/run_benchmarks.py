"""Reproduce the figures of docs/benchmarks.md: one zaqar-server per storage engine, the
reference load generators against it, three runs each, medians printed.

    .venv/bin/python tools/run_benchmarks.py --bench-dir ../shared/bench \
        --engines sqlite postgresql redis --runs 3 --seconds 10

Needs ``wrk`` (Debian package) and the generators' Python dependencies (requests,
websocket-client, msgpack). Each run posts into a fresh project. Besides each
generator's RESULT line it reads the CPU time the server's processes spent during the
run from /proc, so a figure can be judged as server CPU per message too: on a 2-core
machine shared with the load generator that is the steadier measure.
"""
import argparse
import atexit
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
import sqlalchemy as sa

ENGINE_CONFIG = {
    "sqlite": "",
    "postgresql": ("[drivers:message_store:sqlalchemy]\n"
                   "uri = postgresql+psycopg://postgres@127.0.0.1:5432/test"
                   "?options=-csearch_path%3Dzaqar_bench\n"),
    "mysql": ("[drivers:message_store:sqlalchemy]\n"
              "uri = mysql+pymysql://root@127.0.0.1:3306/zaqar_bench\n"),
    "redis": ("[drivers]\nmessage_store = redis\n"
              "[drivers:message_store:redis]\nuri = redis://127.0.0.1:6379/13\n"
              "key_prefix = zaqar_bench\n"),
    # A three-master Redis Cluster started for the run (tests/storage/redis/cluster.py).
    "redis-cluster": "",
}


def start_redis_cluster() -> None:
    """Start the cluster of ``redis-cluster`` (stopped when the run ends) and point its
    configuration at it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.storage.redis import cluster
    atexit.register(cluster.stop)
    ENGINE_CONFIG["redis-cluster"] = (
        "[drivers]\nmessage_store = redis\n"
        f"[drivers:message_store:redis]\nuri = {cluster.start()}\nkey_prefix = zaqar_bench\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reset_engine(engine: str) -> None:
    """Start each engine's benchmark from empty storage."""
    if engine == "postgresql":
        admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test",
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS zaqar_bench CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA zaqar_bench"))
        admin.dispose()
    elif engine == "mysql":
        admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS zaqar_bench"))
            conn.execute(sa.text("CREATE DATABASE zaqar_bench CHARACTER SET utf8mb4"))
        admin.dispose()
    elif engine == "redis":
        import redis

        redis.Redis(host="127.0.0.1", port=6379, db=13).flushdb()


class Server:
    def __init__(self, engine: str, workdir: Path) -> None:
        self.rest_port, self.ws_port = free_port(), free_port()
        config = workdir / "zaqar.conf"
        config.write_text(
            f"[DEFAULT]\ndata_dir = {workdir / 'data'}\n"
            f"[drivers:transport:wsgi]\nport = {self.rest_port}\naccess_log = false\n"
            f"[drivers:transport:websocket]\nport = {self.ws_port}\n"
            "[gc]\ninterval = 0\n" + ENGINE_CONFIG[engine])
        script = Path(sys.executable).parent / "zaqar-server"
        self.log = open(workdir / "server.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen([str(script), "--config-file", str(config)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        headers = {"Client-ID": str(uuid.uuid4()), "X-Project-ID": "probe"}
        for _ in range(300):
            try:
                if requests.get(f"{self.rest_url}/v2/ping", headers=headers,
                                timeout=1).status_code == 204:
                    time.sleep(1)  # let the websocket processes listen too
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"zaqar-server did not start; see {workdir / 'server.log'}")

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    def cpu_seconds(self) -> float:
        """User+system CPU of the server and all its processes so far."""
        pids, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            children = Path(f"/proc/{pid}/task/{pid}/children")
            if children.exists():
                todo.extend(int(child) for child in children.read_text().split())
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


def measure(server: Server, command: list[str], env: dict[str, str]) -> dict[str, float]:
    before = server.cpu_seconds()
    output = subprocess.run(command, capture_output=True, text=True, env=env,
                            timeout=600).stdout
    figures = {"server_cpu_s": server.cpu_seconds() - before}
    result = next((line for line in output.splitlines() if line.startswith("RESULT")), "")
    for key, value in re.findall(r"(\w+)=([\d.]+)", result):
        figures[key] = float(value)
    return figures


def loads(server: Server, bench: Path, seconds: float, project: str) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "REST post (wrk -t2 -c8, batches of 10)": [
            "wrk", "-t2", "-c8", f"-d{seconds:g}s", "-s", str(bench / "post.lua"),
            server.rest_url],
        "REST claim 10 + delete (2 processes)": [
            python, str(bench / "consume.py"), server.rest_url, "benchq", "2", f"{seconds:g}",
            project],
        "websocket post + claim/delete, JSON (2 conns, window 8)": [
            python, str(bench / "ws_bench.py"), server.ws_url, "2", f"{seconds:g}", "8",
            "json", project + "-ws"],
        "websocket post + claim/delete, MsgPack (2 conns, window 8)": [
            python, str(bench / "ws_bench.py"), server.ws_url, "2", f"{seconds:g}", "8",
            "msgpack", project + "-wsm"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql", "redis"],
                        choices=sorted(ENGINE_CONFIG))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("run_benchmarks: wrk is not installed (apt-get install wrk)")
    for engine in args.engines:
        if engine == "redis-cluster":
            start_redis_cluster()
        reset_engine(engine)
        workdir = Path(tempfile.mkdtemp(prefix=f"zaqar-bench-{engine}-"))
        server = Server(engine, workdir)
        print(f"== {engine} (server log: {workdir / 'server.log'})", flush=True)
        try:
            runs: dict[str, list[dict[str, float]]] = {}
            for run in range(args.runs):
                project = f"bench-{engine}-{run}-{uuid.uuid4().hex[:6]}"
                env = {**os.environ, "BENCH_PROJECT": project}
                for name, command in loads(server, args.bench_dir, args.seconds,
                                           project).items():
                    runs.setdefault(name, []).append(measure(server, command, env))
            for name, results in runs.items():
                keys = sorted({key for result in results for key in result})
                medians = {key: statistics.median(r.get(key, 0.0) for r in results)
                           for key in keys}
                shown = "  ".join(f"{key}={value:,.1f}" for key, value in medians.items())
                print(f"  {name}: median of {len(results)}: {shown}", flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
