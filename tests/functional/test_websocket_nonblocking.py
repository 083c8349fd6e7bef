"""Slow storage does not block the websocket server's reactor, shown with real slowness:
the test takes SQLite's write lock itself, so a post waits for it in the server's
thread pool while other requests, on other connections and on the same one, are
answered (SQLite's WAL readers never wait for the writer)."""
import sqlite3
import time

import pytest
import websocket

from tests.functional.websocket_client import connections, echoed

QUEUE = "slow"
PENDING_FOR = 0.5  # seconds the post must stay unanswered while the lock is held


@pytest.fixture
def connect(websocket_url):
    with connections(websocket_url) as open_client:
        yield open_client


@pytest.fixture
def write_lock(zaqar_server):
    """Yields ``take()``: holds the server database's write lock until ``release()``."""
    database = sqlite3.connect(zaqar_server.data_dir / "zaqar.sqlite3", isolation_level=None,
                               timeout=5)

    class Lock:
        held = False

        def take(self) -> None:
            database.execute("BEGIN IMMEDIATE")
            self.held = True

        def release(self) -> None:
            if self.held:
                database.execute("ROLLBACK")
                self.held = False

    lock = Lock()
    try:
        yield lock
    finally:
        lock.release()
        database.close()


def assert_no_reply_yet(client, within: float) -> None:
    with pytest.raises(websocket.WebSocketTimeoutException):
        frame = client.reply(timeout=within)
        pytest.fail(f"answered while the write lock was held: {frame.document}")


def test_reads_are_answered_while_a_write_waits_for_the_database_lock(connect, write_lock):
    writer = connect()
    assert writer.request("message_post", {"queue_name": QUEUE, "messages": [
        {"body": "before", "ttl": 300}]}).status == 201

    write_lock.take()
    post = writer.frame("message_post", {"queue_name": QUEUE,
                                         "messages": [{"body": "after", "ttl": 300}]})
    writer.send(post)
    assert_no_reply_yet(writer, PENDING_FOR)  # the post waits for the lock

    # A connection opened now is served, and its reads are answered.
    reader = connect(project=writer.project)
    started = time.monotonic()
    listed = reader.request("queue_list")
    assert listed.status == 200 and [q["name"] for q in listed.body["queues"]] == [QUEUE]
    messages = reader.request("message_list", {"queue_name": QUEUE, "echo": True})
    assert [m["body"] for m in messages.body["messages"]] == ["before"]
    # The waiting post's own connection answers reads too (its reply comes first).
    stats = writer.request("queue_get_stats", {"queue_name": QUEUE})
    assert stats.status == 200 and stats.body["messages"]["total"] == 1
    assert time.monotonic() - started < 5
    assert_no_reply_yet(writer, 0.2)  # and the post is still waiting

    write_lock.release()
    reply = writer.reply(timeout=10)
    assert reply.document["request"] == echoed(post)
    assert reply.status == 201, reply.document
    messages = reader.request("message_list", {"queue_name": QUEUE, "echo": True})
    assert [m["body"] for m in messages.body["messages"]] == ["before", "after"]
