"""python-zaqarclient, unchanged, against a real server: the clients people already have
must work as they do against upstream Zaqar."""
import uuid

import pytest
from zaqarclient.queues import client as zaqar_client
from zaqarclient.queues.v2 import message
from zaqarclient.transport import errors as client_errors


def make_client(url: str, project: str):
    return zaqar_client.Client(url, version=2, conf={
        "auth_opts": {"backend": "noauth", "options": {"os_project_id": project}}})


@pytest.fixture
def project() -> str:
    return f"zaqarclient-{uuid.uuid4().hex}"


@pytest.fixture
def producer(zaqar_server, project):
    return make_client(zaqar_server.url, project)


@pytest.fixture
def consumer(zaqar_server, project):
    """Another client (its own Client-ID) of the same project."""
    return make_client(zaqar_server.url, project)


def test_client_pings(producer):
    assert producer.ping() is True


def test_client_creates_lists_and_deletes_queues(producer):
    queue = producer.queue("made-by-client", force_create=True)
    assert queue.metadata(force_reload=True)["_default_message_ttl"] == 3600
    other = producer.queue("another", force_create=True)
    listed, count = producer.queues(with_count=True)
    assert [q.name for q in listed] == ["another", "made-by-client"]
    assert count == 2
    other.delete()
    queue.delete()
    assert [q.name for q in producer.queues()[0]] == []


def test_client_sets_and_reads_queue_metadata(producer):
    queue = producer.queue("with-metadata", force_create=True)
    metadata = queue.metadata(new_meta={"color": "blue", "_default_message_ttl": 120})
    assert metadata["color"] == "blue"
    assert metadata["_default_message_ttl"] == 120
    # The client replaces what it saw and removes what it no longer names.
    metadata = queue.metadata(new_meta={"shape": "round"})
    assert metadata["shape"] == "round"
    assert "color" not in metadata
    assert metadata["_default_message_ttl"] == 3600
    assert queue.metadata(force_reload=True) == metadata


def test_client_posts_lists_and_fetches_messages(producer, consumer):
    queue = producer.queue("posting", force_create=True)
    posted = queue.post([{"body": {"n": n}, "ttl": 300} for n in range(3)])
    assert len(posted["resources"]) == 3
    ids = [href.rsplit("/", 1)[1] for href in posted["resources"]]

    seen = list(consumer.queue("posting", auto_create=False).messages())
    assert [m.body for m in seen] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [m.id for m in seen] == ids
    assert list(queue.messages()) == []  # no echo of a client's own messages
    assert [m.body for m in queue.messages(echo=True)] == [{"n": 0}, {"n": 1}, {"n": 2}]

    paged = queue.messages(echo=True, limit=2)
    assert [m.body for m in paged.stream()] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [m.id for m in queue.messages(ids[0], ids[2])] == [ids[0], ids[2]]
    message = queue.message(ids[1])
    assert (message.body, message.ttl, message.claim_id) == ({"n": 1}, 300, None)


def test_client_claims_and_deletes_claimed_messages_with_their_claim(producer, consumer):
    producer.queue("claiming", force_create=True).post(
        [{"body": n, "ttl": 300} for n in range(3)])
    queue = consumer.queue("claiming", auto_create=False)

    claim = queue.claim(ttl=120, grace=60, limit=2)
    claimed = list(claim)
    assert [m.body for m in claimed] == [0, 1]
    assert all(m.claim_id == claim.id for m in claimed)
    assert claim.ttl == 120

    fetched = queue.message(claimed[0].id)
    assert fetched.claim_id == claim.id  # its href names the live claim
    without_claim = message.Message(queue, ttl=fetched.ttl, age=fetched.age,
                                    body=fetched.body, id=fetched.id,
                                    href=fetched.href.split("?")[0])
    with pytest.raises(client_errors.ForbiddenError):
        without_claim.delete()

    for claimed_message in claimed:
        claimed_message.delete()
    stats = queue.stats["messages"]
    assert (stats["free"], stats["claimed"], stats["total"]) == (1, 0, 1)

    claim.update(ttl=300)
    assert claim.ttl == 300
    claim.delete()
    rest_of_work = list(queue.claim(ttl=60, grace=60))
    assert [m.body for m in rest_of_work] == [2]


def test_client_pops_and_deletes_messages_in_bulk(producer):
    queue = producer.queue("popping", force_create=True)
    posted = queue.post([{"body": n, "ttl": 300} for n in range(4)])
    ids = [href.rsplit("/", 1)[1] for href in posted["resources"]]
    assert [m.body for m in queue.pop(count=2)] == [0, 1]
    queue.delete_messages(ids[2])
    assert [m.body for m in queue.messages(echo=True)] == [3]
    queue.purge(resource_types=["messages"])
    assert queue.stats["messages"]["total"] == 0


def test_client_reads_queue_stats(producer):
    queue = producer.queue("counting", force_create=True)
    queue.post([{"body": n, "ttl": 300} for n in range(3)])
    list(queue.claim(ttl=60, grace=60, limit=1))
    stats = queue.stats["messages"]
    assert (stats["free"], stats["claimed"], stats["total"]) == (2, 1, 3)
    assert stats["oldest"]["href"].startswith("/v2/queues/counting/messages/")


def test_client_subscribes_a_webhook(producer):
    # A loopback subscriber the test server never sends to (it allows no destination).
    producer.queue("subscribed", force_create=True)
    subscription = producer.subscription("subscribed", subscriber="http://127.0.0.1:9/hook",
                                         ttl=3600)
    assert subscription.id
    [listed] = list(producer.subscriptions("subscribed"))
    assert (listed.id, listed.subscriber, listed.ttl) == (
        subscription.id, "http://127.0.0.1:9/hook", 3600)


def test_client_deletes_a_queue(producer):
    queue = producer.queue("short-lived", force_create=True)
    queue.post({"body": "x", "ttl": 60})
    queue.delete()
    assert "short-lived" not in [listed.name for listed in producer.queues()[0]]
    assert list(queue.messages(echo=True)) == []
    # v2 queues are lazy: a deleted queue reads as one never created, with the default
    # metadata (upstream's 200).
    assert queue.metadata(force_reload=True)["_default_message_ttl"] == 3600
