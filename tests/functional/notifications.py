"""The machine's real RabbitMQ and a real ``zaqar-bridge`` process, for the bridge and
dashboard tests.

Each test reads and writes bus queues of its own (a random topic and listener pool),
deleted at the end, so concurrent runs never take each other's notifications. Without
RabbitMQ the tests are skipped; with ``CI`` set they fail.
"""
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kombu
import oslo_messaging
import pytest
from oslo_config import cfg

RABBITMQ_URL = os.environ.get("ZAQAR_TEST_RABBITMQ_URL",
                              "rabbit://guest:guest@127.0.0.1:5672/")
PRIORITIES = ("info", "warn", "error", "critical")
STARTUP_TIMEOUT = 30.0


def _rabbitmq_is_up() -> bool:
    try:
        with kombu.Connection(RABBITMQ_URL.replace("rabbit://", "amqp://", 1),
                              connect_timeout=3) as connection:
            connection.connect()
        return True
    except Exception:  # refused, timed out, or kombu's own wrapping of those
        return False


@dataclass
class Bus:
    """A topic and listener pool of this test's own on the real RabbitMQ."""

    url: str
    topic: str = field(default_factory=lambda: f"test_notifications_{uuid.uuid4().hex[:12]}")
    pool: str = field(default_factory=lambda: f"test_bridge_{uuid.uuid4().hex[:12]}")

    def __post_init__(self) -> None:
        conf = cfg.ConfigOpts()
        conf([])
        self._transport = oslo_messaging.get_notification_transport(conf, url=self.url)

    def notifier(self, publisher_id: str) -> oslo_messaging.Notifier:
        """oslo.messaging's Notifier, as Nova or Cinder send with it."""
        return oslo_messaging.Notifier(self._transport, publisher_id=publisher_id,
                                       driver="messagingv2", topics=[self.topic])

    def close(self) -> None:
        """Delete this test's queues from the broker."""
        self._transport.cleanup()
        with kombu.Connection(self.url.replace("rabbit://", "amqp://", 1)) as connection:
            channel = connection.channel()
            for name in [self.pool] + [f"{self.topic}.{p}" for p in PRIORITIES]:
                try:
                    channel.queue_delete(name)
                except Exception:  # never declared: the channel closes, open another
                    channel = connection.channel()


@pytest.fixture
def bus() -> Iterator[Bus]:
    if not _rabbitmq_is_up():
        message = f"RabbitMQ does not answer at {RABBITMQ_URL}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: .ci/run starts it)", pytrace=False)
        pytest.skip(message)
    created = Bus(RABBITMQ_URL)
    yield created
    created.close()


class BridgeProcess:
    """``zaqar-bridge`` on the storage of a zaqar-server (its data_dir), reading ``bus``."""

    def __init__(self, directory: Path, data_dir: Path, bus: Bus, extra: str = "") -> None:
        self.config = directory / "bridge.conf"
        self.config.write_text(
            "[DEFAULT]\n"
            f"data_dir = {data_dir}\n"
            "[bridge]\n"
            f"transport_url = {bus.url}\n"
            f"topics = {bus.topic}\n"
            f"pool = {bus.pool}\n"
            "retry_interval = 0.2\n" + extra)
        self.log_path = directory / "bridge.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._starts = 0

    def start(self) -> None:
        script = os.path.join(os.path.dirname(sys.executable), "zaqar-bridge")
        self._starts += 1
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([script, "--config-file", str(self.config)],
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.output().count("Posting notifications of topics") >= self._starts:
                return
            if self.process.poll() is not None:
                pytest.fail(f"zaqar-bridge exited with {self.process.returncode}:\n"
                            f"{self.output()}", pytrace=False)
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"zaqar-bridge did not start within {STARTUP_TIMEOUT} s:\n"
                    f"{self.output()}", pytrace=False)

    def kill(self) -> None:
        """SIGKILL: no chance to acknowledge or finish anything."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM, which must be clean."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            assert self.process.wait(timeout=20) == 0, self.output()
            assert "Traceback" not in self.output(), self.output()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def bridges(bus: Bus) -> Iterator[list["BridgeProcess"]]:
    """Bridges a test starts go in this list; any still running at the end (a failed
    test) is killed, before ``bus`` deletes its queues."""
    started: list[BridgeProcess] = []
    yield started
    for bridge in started:
        if bridge.process is not None and bridge.process.poll() is None:
            bridge.kill()


def all_messages(rest: Any, queue: str) -> list[dict[str, Any]]:
    """Every message of ``queue`` in post order, page by page over REST."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"echo": "true", "limit": 20}
    while True:
        reply = rest.get(f"/v2/queues/{queue}/messages", params=params)
        assert reply.status_code == 200, reply.text
        page = reply.json()["messages"]
        if not page:
            return found
        found += page
        params["marker"] = page[-1]["id"]
