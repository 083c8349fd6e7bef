"""Measure the REST API on several HTTP server cores (docs/benchmarks.md, "REST server
core"): Zaqar's keep-alive worker, gunicorn's gthread worker (pure-Python parser, and
with gunicorn_h1c's C parser where the running Python has it) and granian (Rust, WSGI).

    PYTHON=/path/to/venv-with-granian-and-gunicorn_h1c/bin/python \
        .venv/bin/python tools/compare_rest_servers.py --bench-dir ../shared/bench --runs 5

Each server runs the same application (2 processes, Redis db 12, emptied first) and the
same loads of tools/run_benchmarks.py (wrk posts, consume.py claims and deletes); the
figure that matters on a small shared machine is the server's CPU per request, read from
/proc, printed with the throughput, as medians of the runs.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
import requests

sys.path.insert(0, str(Path(__file__).parent))
from run_benchmarks import Server, free_port, measure  # noqa: E402

CONFIG = ("[drivers]\nmessage_store = redis\ntransport = wsgi\n"
          "[drivers:message_store:redis]\nuri = redis://127.0.0.1:6379/12\n"
          "key_prefix = zaqar_core_bench\n[notification]\ndeliver = false\n"
          "[gc]\ninterval = 0\n")
# What granian serves: the WSGI entry point with this benchmark's configuration.
GRANIAN_APP = '''
import os
from zaqar import bootstrap, conf
_conf = conf.new_conf(["--config-file", os.environ["ZAQAR_BENCH_CONFIG"]])
application = bootstrap.build_wsgi_app(_conf)
'''


class CoreServer(Server):
    """A server process on one core; ``Server`` supplies cpu_seconds() and stop()."""

    def __init__(self, core: str, python: str, workdir: Path) -> None:
        self.rest_port, self.ws_port = free_port(), free_port()
        config = workdir / "zaqar.conf"
        threads = 1 if core == "keepalive" else 8
        config.write_text(f"[DEFAULT]\ndata_dir = {workdir / 'data'}\n"
                          f"[drivers:transport:wsgi]\nport = {self.rest_port}\n"
                          f"workers = 2\nthreads = {threads}\naccess_log = false\n" + CONFIG)
        if core == "granian":
            (workdir / "bench_app.py").write_text(GRANIAN_APP)
            command = [str(Path(python).parent / "granian"), "--interface", "wsgi",
                       "--host", "127.0.0.1", "--port", str(self.rest_port),
                       "--workers", "2", "--blocking-threads", "8", "--no-ws",
                       "--log-level", "warning", "bench_app:application"]
        else:
            command = [python, "-c", "from zaqar.cmd.server import main; main()",
                       "--config-file", str(config)]
        env = {**os.environ, "ZAQAR_BENCH_CONFIG": str(config),
               "PYTHONPATH": os.pathsep.join([str(workdir), str(Path(__file__).parents[1])])}
        self.log = open(workdir / "server.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT,
                                        env=env, cwd=workdir)
        headers = {"Client-ID": str(uuid.uuid4()), "X-Project-ID": "probe"}
        for _ in range(300):
            try:
                if requests.get(f"{self.rest_url}/v2/ping", headers=headers,
                                timeout=1).status_code == 204:
                    time.sleep(1)
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"{core} did not start; see {workdir / 'server.log'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--cores", nargs="+",
                        default=["keepalive", "gthread", "gthread-h1c", "granian"])
    args = parser.parse_args()
    other_python = os.environ.get("PYTHON", sys.executable)
    for core in args.cores:
        python = sys.executable if core in ("keepalive", "gthread") else other_python
        redis.Redis(host="127.0.0.1", port=6379, db=12).flushdb()
        workdir = Path(tempfile.mkdtemp(prefix=f"zaqar-core-{core}-"))
        server = CoreServer(core, python, workdir)
        posts, claims = [], []
        try:
            for run in range(args.runs):
                project = f"core-{run}-{uuid.uuid4().hex[:6]}"
                env = {**os.environ, "BENCH_PROJECT": project}
                posted = measure(server, ["wrk", "-t2", "-c8", f"-d{args.seconds:g}s", "-s",
                                          str(args.bench_dir / "post.lua"), server.rest_url],
                                 env)
                consumed = measure(server, [sys.executable,
                                            str(args.bench_dir / "consume.py"),
                                            server.rest_url, "benchq", "2",
                                            f"{args.seconds:g}", project], env)
                posted["cpu_us"] = 1e6 * posted["server_cpu_s"] / max(posted["requests"], 1)
                cycles = max(consumed.get("consumed", 0) / 10, 1)  # claim + delete each
                consumed["cpu_us"] = 1e6 * consumed["server_cpu_s"] / (2 * cycles)
                posts.append(posted)
                claims.append(consumed)
        finally:
            server.stop()

        def median(results: list[dict[str, float]], key: str) -> float:
            return statistics.median(result.get(key, 0.0) for result in results)

        print(f"{core}: post {median(posts, 'msgs_s'):,.0f} msgs/s, "
              f"{median(posts, 'cpu_us'):,.0f} µs server CPU/request (p50 "
              f"{median(posts, 'p50_ms'):.2f} ms); claim+delete "
              f"{median(claims, 'msgs_s'):,.0f} msgs/s, {median(claims, 'cpu_us'):,.0f} µs "
              f"server CPU/request; runs: post cpu_us "
              f"{[round(p['cpu_us']) for p in posts]}, claim cpu_us "
              f"{[round(c['cpu_us']) for c in claims]}", flush=True)


if __name__ == "__main__":
    main()
