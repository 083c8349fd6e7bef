"""At least once: a server killed (SIGKILL, the whole process group) between a post and
its delivery delivers the message once started again on the same store."""
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.functional.conftest import (
    Rest,
    ServerProcess,
    _free_ports,
    _server_command,
    _wait_until_serving,
    _write_config,
)
from tests.functional.receivers import webhook_receiver
from tests.functional.test_notifications import NOTIFICATION, post, subscribe


@contextmanager
def killable_server(directory: Path, config: Path | None = None) -> Iterator[ServerProcess]:
    """A zaqar-server in a session of its own, SIGKILLed whole on exit (no clean stop).
    ``config`` reuses an earlier server's configuration (and so its store)."""
    if config is None:
        port, websocket_port = _free_ports(2)
        config = _write_config(directory, port, websocket_port)
        (directory / "notification.conf").write_text(NOTIFICATION)
    port = next(line.split("=")[1].strip() for line in config.read_text().splitlines()
                if line.startswith("port ="))
    log_path = directory / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [*_server_command(config), "--config-file", str(directory / "notification.conf")],
            stdout=log, stderr=subprocess.STDOUT, cwd=directory, start_new_session=True)
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_message_posted_before_a_crash_is_delivered_after_restart(tmp_path):
    with webhook_receiver(status=503) as hook:
        with killable_server(tmp_path) as first:
            rest = Rest(first.url)
            # First retry in 30 s: it is still pending when the server is killed.
            subscribe(rest, "durable", hook.url, _retry_policy={
                "retries_with_no_delay": 0, "minimum_delay": 30, "maximum_delay": 40})
            post(rest, "durable", {"n": 1})
            hook.wait_for(1)
        assert len(hook.received) == 1
        hook.status = 200
        with killable_server(tmp_path, tmp_path / "zaqar.conf") as second:
            arrived = hook.wait_for(2)
            Rest(second.url).close()
    assert [item.body["body"] for item in arrived] == [{"n": 1}, {"n": 1}]
