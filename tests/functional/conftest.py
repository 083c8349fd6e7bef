"""A real ``zaqar-server`` process for the functional tests, and an HTTP helper over it.

The server is started once per session from the console script of the running
virtualenv, on free ports (REST and websocket), with a fresh SQLite database in a
temporary directory. Each test talks to it through :class:`Rest`, whose session carries a
Client-ID and an X-Project-ID of its own, so tests never see each other's queues;
websocket tests connect to ``ServerProcess.ws_url`` through the ``websocket_url`` fixture.
Tests that need another configuration (another storage engine) start their own server
with :func:`running_server`.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket

STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 15.0


@dataclass(frozen=True)
class ServerProcess:
    url: str
    process: subprocess.Popen
    log_path: Path
    ws_url: str = ""  # the websocket API, ws://127.0.0.1:<port>/
    data_dir: Path | None = None  # holds the server's zaqar.sqlite3

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


class Rest:
    """Requests against the server, scoped to one project and one client."""

    def __init__(self, url: str, project: str | None = None) -> None:
        self.url = url
        self.project = project or f"project-{uuid.uuid4().hex}"
        self.client_id = str(uuid.uuid4())
        self.session = requests.Session()
        self.session.headers.update({"Client-ID": self.client_id,
                                     "X-Project-ID": self.project})

    def peer(self) -> "Rest":
        """Another client (its own Client-ID) in the same project."""
        return Rest(self.url, self.project)

    def request(self, method: str, path: str, headers: dict[str, str | None] | None = None,
                **kwargs: Any) -> requests.Response:
        """``headers`` are merged over the session's; a None value removes a header."""
        return self.session.request(method, self.url + path, headers=headers, timeout=30,
                                    **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("HEAD", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()


def server_processes(master: int, role: str) -> list[int]:
    """Pids of a ``zaqar-server``'s processes of one role, by the titles it gives them:
    ``"rest"`` (gunicorn's workers), ``"websocket"``, ``"notifier"``, ``"spawner"``."""
    title = b"gunicorn: worker" if role == "rest" else f"zaqar-server: {role}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            if cmdline.startswith(title) and master in _ancestors(int(entry.name)):
                found.append(int(entry.name))
        except OSError:  # ended meanwhile
            continue
    return sorted(found)


def _ancestors(pid: int) -> list[int]:
    chain = []
    while pid > 1:
        stat = Path(f"/proc/{pid}/stat").read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        chain.append(pid)
    return chain


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free ports."""
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(_free_port())
    return sorted(ports)


def _write_config(directory: Path, port: int, websocket_port: int) -> Path:
    """Both transports (the default), on 127.0.0.1."""
    data_dir = directory / "data"
    data_dir.mkdir()
    config = directory / "zaqar.conf"
    config.write_text(
        "[DEFAULT]\n"
        f"data_dir = {data_dir}\n"
        "\n[drivers]\n"
        "transport = wsgi, websocket\n"
        "\n[drivers:transport:wsgi]\n"
        "bind = 127.0.0.1\n"
        f"port = {port}\n"
        "workers = 2\n"
        "\n[drivers:transport:websocket]\n"
        "bind = 127.0.0.1\n"
        f"port = {websocket_port}\n"
        "\n[gc]\n"
        "interval = 0\n")
    return config


def _server_command(config: Path) -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "zaqar-server")
    if os.path.exists(script):
        return [script, "--config-file", str(config)]
    return [sys.executable, "-m", "zaqar", "--config-file", str(config)]


def _wait_until_serving(server: ServerProcess) -> None:
    headers = {"Client-ID": str(uuid.uuid4()), "X-Project-ID": "startup-probe"}
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"zaqar-server exited with {server.process.returncode} before "
                        f"serving:\n{server.output()}", pytrace=False)
        try:
            # 401: serving behind Keystone (tests/functional/keystone/), no token sent.
            if requests.get(server.url + "/v2/ping", headers=headers,
                            timeout=2).status_code in (204, 401):
                return
        except (requests.ConnectionError, requests.Timeout):  # a worker still booting
            pass
        time.sleep(0.1)
    server.process.kill()
    server.process.wait()
    pytest.fail(f"zaqar-server did not answer /v2/ping within {STARTUP_TIMEOUT} s:\n"
                f"{server.output()}", pytrace=False)


def _wait_until_websocket_serving(server: ServerProcess) -> None:
    """The websocket server runs in a child process of its own: wait for its handshake."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"zaqar-server exited with {server.process.returncode}:\n"
                        f"{server.output()}", pytrace=False)
        try:
            websocket.create_connection(server.ws_url, timeout=2).close()
            return
        except (OSError, websocket.WebSocketException):
            time.sleep(0.1)
    pytest.fail(f"zaqar-server's websocket API did not answer on {server.ws_url} within "
                f"{STARTUP_TIMEOUT} s:\n{server.output()}", pytrace=False)


@contextmanager
def running_server(directory: Path, override: str = "",
                   websocket_ready: bool = False) -> Iterator[ServerProcess]:
    """A ``zaqar-server`` in ``directory``, serving once entered (its websocket API too
    with ``websocket_ready``); stopped with SIGTERM on exit, which must be clean.

    ``override`` is configuration read after the default one, so its values win.
    """
    port, websocket_port = _free_ports(2)
    command = _server_command(_write_config(directory, port, websocket_port))
    if override:
        (directory / "override.conf").write_text(override)
        command += ["--config-file", str(directory / "override.conf")]
    log_path = directory / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=directory)
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log_path,
                           f"ws://127.0.0.1:{websocket_port}/", directory / "data")
    try:
        _wait_until_serving(server)
        if websocket_ready:
            _wait_until_websocket_serving(server)
        yield server
    except BaseException:
        # The test failed: stop the server without judging its shutdown, never leak it.
        process.kill()
        process.wait()
        raise
    process.send_signal(signal.SIGTERM)
    try:
        returncode = process.wait(timeout=SHUTDOWN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"zaqar-server ignored SIGTERM for {SHUTDOWN_TIMEOUT} s:\n"
                    f"{server.output()}", pytrace=False)
    assert returncode == 0, f"zaqar-server exited with {returncode}:\n{server.output()}"
    assert "Traceback" not in server.output(), server.output()


@pytest.fixture(scope="session")
def zaqar_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One ``zaqar-server`` (SQLite) for the session."""
    with running_server(tmp_path_factory.mktemp("zaqar-server")) as server:
        yield server


@pytest.fixture
def rest(zaqar_server: ServerProcess) -> Iterator[Rest]:
    """A client of the server in a project of its own."""
    client = Rest(zaqar_server.url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def websocket_url(zaqar_server: ServerProcess) -> str:
    """The session server's websocket API, once it accepts connections."""
    _wait_until_websocket_serving(zaqar_server)
    return zaqar_server.ws_url
