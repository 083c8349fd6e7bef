"""Restart time of ``zaqar-server`` (issue 13): kill -9 of the whole server (its process
group), start it again on the same SQLite file with default settings, and time the
first answered REST request (``GET /v2/ping``) and the first websocket handshake.

    python tests/torture/restart_time.py --runs 5

Prints one line per restart and the medians."""
import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
import websocket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def until(answered, started: float, limit: float = 60.0) -> float:
    while time.monotonic() - started < limit:
        try:
            if answered():
                return time.monotonic() - started
        except (OSError, requests.RequestException, websocket.WebSocketException):
            pass
        time.sleep(0.01)
    raise TimeoutError("the server did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="zaqar-restart-"))
    rest_port, ws_port = free_port(), free_port()
    config = directory / "zaqar.conf"
    config.write_text(f"[DEFAULT]\ndata_dir = {directory}\n"
                      f"[drivers:transport:wsgi]\nport = {rest_port}\n"
                      f"[drivers:transport:websocket]\nport = {ws_port}\n")
    script = Path(sys.executable).with_name("zaqar-server")
    headers = {"Client-ID": str(uuid.uuid4()), "X-Project-ID": "restart"}

    def start() -> subprocess.Popen:
        with open(directory / "server.log", "ab") as log:
            return subprocess.Popen([str(script), "--config-file", str(config)], stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def rest_answers() -> bool:
        return requests.get(f"http://127.0.0.1:{rest_port}/v2/ping", headers=headers,
                            timeout=1).status_code == 204

    def websocket_answers() -> bool:
        websocket.create_connection(f"ws://127.0.0.1:{ws_port}/", timeout=1).close()
        return True

    server = start()
    until(rest_answers, time.monotonic())
    until(websocket_answers, time.monotonic())
    figures = []
    try:
        for run in range(args.runs):
            requests.post(f"http://127.0.0.1:{rest_port}/v2/queues/q/messages",
                          headers=headers, json={"messages": [{"body": run}]}, timeout=5)
            started = time.monotonic()
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            server = start()
            rest = until(rest_answers, started)
            both = until(websocket_answers, started)
            figures.append((rest, both))
            print(f"restart {run + 1}: REST answers after {rest:.2f} s, "
                  f"websocket after {both:.2f} s")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    print(f"median: REST {statistics.median(f[0] for f in figures):.2f} s, "
          f"websocket {statistics.median(f[1] for f in figures):.2f} s")


if __name__ == "__main__":
    main()
