"""Webhook delivery figures for docs/benchmarks.md: messages/s delivered to 1 and to 10
webhook subscribers, and what subscribers add to a post's latency.

    python tools/notification_bench.py --engines sqlite redis --runs 3 --messages 2000

Per engine and run, a fresh zaqar-server (webhooks allowed to loopback only) and an HTTP
receiver on a loopback port that answers 204 at once:

- post latency: ``--latency-posts`` REST posts of one message, one after the other, to a
  queue without subscribers, then to one with 10 (while their deliveries run): medians;
- throughput: ``--messages`` messages posted in batches of 20 as fast as one client can,
  then the time until the last of them reached every subscriber: messages delivered per
  second, from the first post to the last delivery.

Medians of the runs are printed. Redis runs in database 13 under a prefix of its own.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

ENGINES = {
    "sqlite": "",
    "redis": ("[drivers]\nmessage_store = redis\n[drivers:message_store:redis]\n"
              "uri = redis://127.0.0.1:6379/13\nkey_prefix = zaqar_notification_bench_{run}\n"),
}
BATCH = 20


class Receiver:
    """Counts the notifications each path receives."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.counts[self.path] = receiver.counts.get(self.path, 0) + 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def total(self, prefix: str) -> int:
        with self.lock:
            return sum(count for path, count in self.counts.items()
                       if path.startswith(prefix))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(directory: Path, engine_config: str) -> tuple[subprocess.Popen, str]:
    port, ws_port = free_port(), free_port()
    config = directory / "zaqar.conf"
    config.write_text(
        f"[DEFAULT]\ndata_dir = {directory}\n[drivers:transport:wsgi]\nbind = 127.0.0.1\n"
        f"port = {port}\nworkers = 2\n[drivers:transport:websocket]\nbind = 127.0.0.1\n"
        f"port = {ws_port}\n[gc]\ninterval = 0\n[notification]\n"
        "allowed_destinations = 127.0.0.0/8\n" + engine_config)
    script = Path(sys.executable).parent / "zaqar-server"
    process = subprocess.Popen([str(script), "--config-file", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/v2/ping", headers=headers("probe"),
                            timeout=2).status_code == 204:
                return process, url
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("zaqar-server did not start")


def headers(project: str) -> dict[str, str]:
    return {"Client-ID": str(uuid.uuid4()), "X-Project-ID": project}


def median_post_latency(session: requests.Session, url: str, queue: str, posts: int) -> float:
    latencies = []
    for n in range(posts):
        started = time.perf_counter()
        response = session.post(f"{url}/v2/queues/{queue}/messages",
                                json={"messages": [{"body": {"n": n}, "ttl": 300}]})
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 201, response.text
    return statistics.median(latencies)


def subscribe(session: requests.Session, url: str, queue: str, hook: str) -> None:
    response = session.post(f"{url}/v2/queues/{queue}/subscriptions",
                            json={"subscriber": hook, "ttl": 3600})
    assert response.status_code == 201, response.text


def throughput(session: requests.Session, url: str, receiver: Receiver, queue: str,
               subscribers: int, messages: int) -> float:
    prefix = f"/{queue}/"
    for number in range(subscribers):
        subscribe(session, url, queue, f"{receiver.url}{prefix}{number}")
    time.sleep(1.5)  # the notifier sees the subscriptions before the first post
    started = time.perf_counter()
    for start in range(0, messages, BATCH):
        response = session.post(f"{url}/v2/queues/{queue}/messages", json={"messages": [
            {"body": {"n": n}, "ttl": 600} for n in range(start, start + BATCH)]})
        assert response.status_code == 201, response.text
    expected = messages * subscribers
    deadline = time.monotonic() + 600
    while receiver.total(prefix) < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    if receiver.total(prefix) < expected:
        raise SystemExit(f"only {receiver.total(prefix)} of {expected} deliveries arrived")
    return messages / elapsed


def run(engine: str, run_number: int, args: argparse.Namespace) -> dict[str, float]:
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as directory:
        process, url = start_server(Path(directory),
                                    ENGINES[engine].format(run=f"{os.getpid()}_{run_number}"))
        try:
            session = requests.Session()
            session.headers.update({**headers(f"bench-{uuid.uuid4().hex}"),
                                    "Content-Type": "application/json"})
            alone = median_post_latency(session, url, "quiet", args.latency_posts)
            for number in range(10):
                subscribe(session, url, "watched", f"{receiver.url}/watched/{number}")
            time.sleep(1.5)
            watched = median_post_latency(session, url, "watched", args.latency_posts)
            one = throughput(session, url, receiver, "one", 1, args.messages)
            ten = throughput(session, url, receiver, "ten", 10, args.messages // 4)
        finally:
            process.terminate()
            process.wait(30)
            receiver.server.shutdown()
    return {"post_ms_alone": alone * 1000, "post_ms_10_subscribers": watched * 1000,
            "msgs_per_s_1_subscriber": one, "msgs_per_s_10_subscribers": ten,
            "deliveries_per_s_10_subscribers": ten * 10}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["sqlite", "redis"],
                        choices=sorted(ENGINES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--latency-posts", type=int, default=200)
    args = parser.parse_args()
    for engine in args.engines:
        results = [run(engine, number, args) for number in range(args.runs)]
        for key in results[0]:
            values = [result[key] for result in results]
            print(f"{engine:7} {key:32} median {statistics.median(values):9.1f}  "
                  f"runs {', '.join(f'{value:.1f}' for value in values)}", flush=True)


if __name__ == "__main__":
    main()
