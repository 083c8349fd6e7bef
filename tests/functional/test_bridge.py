"""``zaqar-bridge`` against the machine's real RabbitMQ and a real ``zaqar-server``.

Notifications are sent with oslo.messaging's own Notifier, as OpenStack services send
them; what the bridge stored is read back over the server's REST API, per project.
"""
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.functional.conftest import Rest, ServerProcess, running_server
from tests.functional.notifications import BridgeProcess, Bus, all_messages, bridges, bus

__all__ = ["bridges", "bus"]  # fixtures, imported for pytest

QUEUE = "notifications-compute"
WAIT = 30.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A zaqar-server whose data_dir the bridge shares (the embedded SQLite)."""
    directory = tmp_path / "server"
    directory.mkdir()
    with running_server(directory) as started:
        yield started


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"Not within {timeout} s: {what}", pytrace=False)


def _instance_ids(rest: Rest, queue: str = QUEUE) -> list[str]:
    return [m["body"]["payload"]["instance_id"] for m in all_messages(rest, queue)]


def test_notifications_land_in_their_projects_queue_only(
        tmp_path: Path, bus: Bus, bridges: list[BridgeProcess], server: ServerProcess) -> None:
    bridge = BridgeProcess(tmp_path, server.data_dir, bus,
                           "event_types = compute\\.instance\\., instance\\.\nmessage_ttl = 600\n")
    bridges.append(bridge)
    bridge.start()
    nova = bus.notifier("compute.host1")
    for number in range(5):
        for project in ("alpha", "beta"):
            nova.info({}, "compute.instance.update",
                      {"tenant_id": project, "instance_id": f"{project}-{number}",
                       "state": "active"})
    # Filtered out by event_types, and one naming no project: neither is posted.
    nova.info({}, "compute.metrics.update", {"tenant_id": "alpha", "instance_id": "metric"})
    nova.info({}, "compute.instance.update", {"instance_id": "nobody"})
    # Versioned notifications carry the project inside nova_object.data; another
    # publisher goes to another queue.
    bus.notifier("nova-compute:host1").warn(
        {}, "instance.update", {"nova_object.data": {"project_id": "alpha", "uuid": "v-1"}})

    alpha, beta = Rest(server.url, "alpha"), Rest(server.url, "beta")
    _wait_for(lambda: len(all_messages(alpha, "notifications-nova-compute")) == 1,
              "the versioned notification in alpha's nova-compute queue")
    _wait_for(lambda: len(_instance_ids(beta)) == 5, "beta's five notifications")
    assert _instance_ids(alpha) == [f"alpha-{n}" for n in range(5)]
    assert _instance_ids(beta) == [f"beta-{n}" for n in range(5)]
    first = all_messages(alpha, QUEUE)[0]
    assert first["ttl"] == 600
    assert first["body"]["event_type"] == "compute.instance.update"
    assert first["body"]["publisher_id"] == "compute.host1"
    assert first["body"]["priority"] == "info"
    assert beta.get("/v2/queues/notifications-nova-compute/stats").json()["messages"][
        "total"] == 0
    assert "names no project" in bridge.output()
    bridge.stop()


def test_a_bridge_killed_mid_stream_loses_nothing(
        tmp_path: Path, bus: Bus, bridges: list[BridgeProcess], server: ServerProcess) -> None:
    total = 300
    bridge = BridgeProcess(tmp_path, server.data_dir, bus)
    bridges.append(bridge)
    bridge.start()
    nova = bus.notifier("compute.host1")
    rest = Rest(server.url, "gamma")

    def emit() -> None:
        for number in range(total):
            nova.info({}, "compute.instance.update",
                      {"tenant_id": "gamma", "instance_id": str(number), "state": "active"})
            time.sleep(0.002)

    emitter = threading.Thread(target=emit)
    emitter.start()
    _wait_for(lambda: len(_instance_ids(rest)) >= 20, "the first notifications stored")
    bridge.kill()
    stored_at_kill = len(_instance_ids(rest))
    emitter.join()
    assert stored_at_kill < total, "the bridge was killed after the stream ended"
    bridge.start()
    _wait_for(lambda: set(_instance_ids(rest)) == {str(n) for n in range(total)},
              f"all {total} notifications stored after the restart")
    print(f"\n{stored_at_kill} of {total} stored when the bridge was killed; "
          f"{len(_instance_ids(rest)) - total} duplicates after the restart")
    bridge.stop()
