"""zaqar-server's processes (zaqar/cmd/children.py): the spawner forks the websocket
servers and the notifier; "ready" is logged once both transports accept; a websocket
server that cannot start stops the whole server; nothing outlives a master killed with
SIGKILL; a notifier that dies is forked again."""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import websocket

from tests.functional.conftest import (
    Rest,
    _free_ports,
    _server_command,
    _write_config,
    running_server,
    server_processes,
)

ROLES = ("spawner", "websocket", "notifier")


def wait_for(condition, timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def test_ready_is_logged_once_both_transports_accept(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        wait_for(lambda: "zaqar-server is ready" in server.output(), what="the ready line")
        # Logged after every websocket process wrote that it serves: a handshake now
        # needs no retry.
        websocket.create_connection(server.ws_url, timeout=5).close()
        assert Rest(server.url).get("/v2/ping").status_code == 204
        assert len(server_processes(server.process.pid, "websocket")) == 4
        assert len(server_processes(server.process.pid, "spawner")) == 1
        assert len(server_processes(server.process.pid, "notifier")) == 1
        line = next(line for line in server.output().splitlines() if "is ready" in line)
        assert server.url.replace("http://", "") in line
        assert server.ws_url.replace("ws://", "") in line


def test_a_websocket_port_in_use_stops_the_whole_server(tmp_path: Path) -> None:
    port, websocket_port = _free_ports(2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", websocket_port))
        taken.listen()
        command = _server_command(_write_config(tmp_path, port, websocket_port))
        done = subprocess.run(command, capture_output=True, text=True, timeout=60,
                              cwd=tmp_path)
    assert done.returncode != 0
    assert "the websocket server could not start" in done.stderr
    assert "a websocket server exited unexpectedly" in done.stderr
    assert "Traceback" not in done.stderr


def test_nothing_outlives_a_master_killed_with_sigkill(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        wait_for(lambda: "zaqar-server is ready" in server.output(), what="the ready line")
        master = server.process.pid
        children = [pid for role in ROLES for pid in server_processes(master, role)]
        assert len(children) == 6
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()

        def ended(pid: int) -> bool:
            # A zombie has closed its files; one still exiting may hold them (its
            # cmdline reads empty before its sockets are closed).
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError):
                return True
            return state in ("Z", "X")

        def all_gone() -> bool:
            return all(ended(pid) for pid in children)

        wait_for(all_gone, 5, "the spawner, websocket servers and notifier to end")
        # The websocket port is free again for the next start.
        with socket.socket() as probe:  # (a connection in TIME_WAIT does not count)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", int(server.ws_url.rsplit(":", 1)[1].strip("/"))))
        # running_server's own clean stop no longer applies: the master is gone.
        server.process.returncode = 0
        server.log_path.write_text(server.output().replace("Traceback", "traceback"))


def test_a_notifier_that_dies_is_forked_again(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        wait_for(lambda: "zaqar-server is ready" in server.output(), what="the ready line")
        [notifier] = server_processes(server.process.pid, "notifier")
        os.kill(notifier, signal.SIGKILL)
        wait_for(lambda: server_processes(server.process.pid, "notifier") not in ([], [notifier]),
                 what="a new notifier")
        assert "The notifier process exited" in server.output()
        assert Rest(server.url).get("/v2/ping").status_code == 204
