"""Server push through each storage's channel, on a real ``zaqar-server``: on Redis the
post script's announcements (pub/sub) wake the websocket server at once; on SQLite it
polls every ``push_interval``. The time from a REST post to its push is measured on both
(printed: run with ``pytest -s``), not asserted."""
import random
import statistics
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
import requests

from tests import engines
from tests.functional.conftest import Rest, ServerProcess, running_server
from tests.functional.websocket_client import connections, subscribe_here

PUSH_TIMEOUT = 5.0
# The Redis server's safety-net poll is far slower than PUSH_TIMEOUT: any push within
# it came from an announcement.
SAFETY_INTERVAL = 60.0
LATENCY_POSTS = 50


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A ``zaqar-server`` on Redis (tests/engines.py), under the session's key prefix."""
    engines.REDIS.check_reachable()
    override = (
        "[drivers]\n"
        "message_store = redis\n"
        f"\n[{engines.REDIS.group}]\n"
        f"uri = {engines.REDIS.uri}\n"
        f"key_prefix = {engines.SESSION}:server\n"
        "\n[drivers:transport:websocket]\n"
        f"push_safety_interval = {SAFETY_INTERVAL}\n")
    with running_server(tmp_path_factory.mktemp("zaqar-server-redis"), override,
                        websocket_ready=True) as server:
        yield server


@pytest.fixture(params=["sqlite", "redis"])
def server(request: pytest.FixtureRequest) -> ServerProcess:
    """The session's server on each engine, its websocket API serving."""
    if request.param == "redis":
        return request.getfixturevalue("redis_server")
    request.getfixturevalue("websocket_url")
    return request.getfixturevalue("zaqar_server")


def test_redis_announcement_pushes_a_rest_post_without_waiting_for_a_poll(redis_server):
    with connections(redis_server.ws_url) as connect:
        subscriber = connect()
        subscription_id = subscribe_here(subscriber, "announced")
        rest = Rest(redis_server.url, subscriber.project)
        posted = rest.post("/v2/queues/announced/messages",
                           json={"messages": [{"body": "hello", "ttl": 300}]})
        assert posted.status_code == 201
        push = subscriber.push(PUSH_TIMEOUT)
        rest.close()
    assert push.document["headers"]["subscription_id"] == subscription_id
    assert [(m["href"], m["body"]) for m in push.body["messages"]] == [
        (posted.json()["resources"][0], "hello")]


def test_push_latency_from_rest_post_to_websocket_push(server, request):
    """Measured, not asserted: the time from a REST post to its push, over 50 posts.

    Posts start at random offsets within a push interval (0.05 s by default): posting
    right after each push would always just miss a poll and measure a whole interval."""
    with connections(server.ws_url) as connect:
        subscriber = connect()
        subscribe_here(subscriber, "latency")
        session = requests.Session()
        session.headers.update({"Client-ID": str(uuid.uuid4()),
                                "X-Project-ID": subscriber.project})
        url = f"{server.url}/v2/queues/latency/messages"
        latencies, replies = [], []
        for n in range(LATENCY_POSTS):
            time.sleep(random.uniform(0, 0.05))
            started = time.perf_counter()
            resp = session.post(url, json={"messages": [{"body": n, "ttl": 300}]},
                                timeout=10)
            assert resp.status_code == 201
            replies.append(time.perf_counter() - started)
            push = subscriber.push(PUSH_TIMEOUT)
            latencies.append(time.perf_counter() - started)
            assert [m["body"] for m in push.body["messages"]] == [n]
        session.close()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)]
    print(f"\npush latency on {request.node.callspec.params['server']}, REST post -> "
          f"websocket push over {len(latencies)} posts: "
          f"median {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
          f"max {latencies[-1] * 1000:.1f} ms (the REST reply alone: median "
          f"{statistics.median(replies) * 1000:.1f} ms, max {max(replies) * 1000:.1f} ms)")


def test_a_process_watches_posts_only_while_it_holds_subscriptions(tmp_path):
    """Every announcement wakes each watching process: one with no websocket
    subscription does not listen (and a subscription is confirmed once it does)."""
    engines.REDIS.check_reachable()
    prefix = f"{engines.SESSION}:lazy"
    override = (f"[drivers]\nmessage_store = redis\n\n[{engines.REDIS.group}]\n"
                f"uri = {engines.REDIS.uri}\nkey_prefix = {prefix}\n\n"
                "[drivers:transport:websocket]\nworkers = 1\n"
                f"push_safety_interval = {SAFETY_INTERVAL}\n")
    client = redis.Redis.from_url(engines.REDIS.uri)
    channel = f"{prefix}:posts"

    def listeners() -> int:
        return int(client.pubsub_numsub(channel)[0][1])

    with running_server(tmp_path, override, websocket_ready=True) as server:
        assert listeners() == 0
        with connections(server.ws_url) as connect:
            subscriber = connect()
            subscribe_here(subscriber, "watched")
            assert listeners() == 1
    client.close()
