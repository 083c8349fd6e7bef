"""A ``zaqar-server`` for the torture tests: both transports, on a chosen engine, that
can be SIGKILLed as a whole and started again (tests/functional/test_durability.py's
:class:`CrashableServer`, given the websocket API and a storage engine)."""
import time
import uuid
from pathlib import Path

import pytest

from tests import engines
from tests.functional.conftest import (
    ServerProcess,
    _free_port,
    _wait_until_websocket_serving,
    server_processes,
)
from tests.functional.test_durability import CrashableServer

TORTURE_ENGINES = ("sqlite", "postgresql", "redis")


def storage_config(engine_name: str) -> str:
    """Configuration selecting ``engine_name`` (tests/engines.py), in the test session's
    private schema (PostgreSQL) or under a key prefix of its own (Redis); SQLite is the
    default, a file in the server's data_dir."""
    engine = engines.by_name(engine_name)
    engine.check_reachable()  # skips, or fails under CI, when the server is missing
    if engine_name == "sqlite":
        return ""
    if engine_name == "postgresql":
        return ("[drivers]\nmessage_store = sqlalchemy\n"
                f"[drivers:message_store:sqlalchemy]\nuri = {engine.uri}\n")
    if engine_name == "redis":
        prefix = f"{engines.SESSION}:torture_{uuid.uuid4().hex[:8]}"
        return (f"[drivers]\nmessage_store = redis\n[{engines.REDIS.group}]\n"
                f"uri = {engine.uri}\nkey_prefix = {prefix}\n")
    raise pytest.UsageError(f"no torture configuration for {engine_name}")


class TortureServer(CrashableServer):
    """REST (2 gunicorn workers) and websocket (2 processes) on ``storage`` config."""

    def __init__(self, directory: Path, storage: str = "", websocket_extra: str = "") -> None:
        super().__init__(directory)
        self.ws_port = _free_port()
        self.ws_url = f"ws://127.0.0.1:{self.ws_port}/"
        self.config.write_text(
            "[DEFAULT]\n"
            f"data_dir = {directory / 'data'}\n"
            "[drivers]\n"
            "transport = wsgi, websocket\n"
            "[drivers:transport:wsgi]\n"
            "bind = 127.0.0.1\n"
            f"port = {self.port}\n"
            "workers = 2\n"
            "access_log = false\n"
            "[drivers:transport:websocket]\n"
            "bind = 127.0.0.1\n"
            f"port = {self.ws_port}\n"
            "workers = 2\n"
            f"{websocket_extra}"
            "[gc]\n"
            "interval = 0\n"
            f"{storage}")

    def start(self) -> None:
        """Start, and return once both transports answer."""
        super().start()
        assert self.process is not None
        _wait_until_websocket_serving(ServerProcess(self.url, self.process, self.log_path,
                                                    self.ws_url))

    def stop(self) -> float:
        """SIGTERM, which must be clean within functional tests' SHUTDOWN_TIMEOUT; the
        seconds it took."""
        started = time.monotonic()
        code = self.terminate()
        assert code == 0, self.output()[-5000:]
        return round(time.monotonic() - started, 2)

    def websocket_pids(self) -> list[int]:
        """The websocket server processes."""
        assert self.process is not None
        return server_processes(self.process.pid, "websocket")


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid``, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def tracebacks(log: str) -> list[str]:
    """The server log's tracebacks, each with the lines that follow it."""
    lines = log.splitlines()
    return ["\n".join(lines[i:i + 30]) for i, line in enumerate(lines) if "Traceback" in line]
