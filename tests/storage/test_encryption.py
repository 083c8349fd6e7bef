"""Encryption at rest (zaqar.api.encryption) over every real engine (SQL rows, the Redis
hash, MongoDB documents): what the engine keeps is never the plaintext, and a sealed body
that is altered in storage reads as an error for that message alone."""
import base64

import pytest
import sqlalchemy as sa

from tests.conftest import make_conf
from tests.storage.test_contract import CLIENT, P
from zaqar.api.encryption import BodyCipher, Unreadable
from zaqar.storage.base import DeadLetter, NewMessage
from zaqar.storage.mongodb import documents
from zaqar.storage.pooling import PooledDriver
from zaqar.storage.sqlalchemy.driver import SqlDriver

SECRET = "correct horse battery staple"
PLAINTEXT = "the launch code is 0000"


@pytest.fixture
def cipher(tmp_path) -> BodyCipher:
    return BodyCipher(make_conf(tmp_path, transport={"message_encryption_key": SECRET}))


def post_sealed(driver, cipher, bodies, queue="q"):
    batch = cipher.seal_batch(P, [NewMessage(body=body, ttl=300) for body in bodies])
    return driver.messages.post(queue, P, batch, CLIENT)


def engine_of(driver) -> str:
    if isinstance(driver, SqlDriver):
        return "sql"
    return "mongodb" if type(driver).__module__.startswith("zaqar.storage.mongodb") \
        else "redis"


def pool_of(driver, queue):
    """The driver that holds the queue: its pool's, under the pooled driver."""
    if isinstance(driver, PooledDriver):
        return driver.catalog.driver(driver.catalog.lookup(queue, P))
    return driver


def raw_bodies(driver, queue="q") -> dict[str, str]:
    """Message id -> body exactly as the engine holds it."""
    driver = pool_of(driver, queue)
    if engine_of(driver) == "mongodb":
        found = driver.db[documents.MESSAGES].find({"s": documents.scope(queue, P)})
        return {str(doc["seq"]): doc["b"] for doc in found}
    if engine_of(driver) == "sql":
        query = sa.text("SELECT m.seq, m.body FROM messages m JOIN queues q "
                        "ON q.id = m.queue_id WHERE q.name = :name AND q.project = :project")
        with driver.writer.connect() as conn:
            return {str(seq): body for seq, body in conn.execute(
                query, {"name": queue, "project": P})}
    key = driver.keyspace.scope(queue, P).bodies
    return {k.decode(): v.decode() for k, v in driver.client.hgetall(key).items()}


def set_raw_body(driver, message_id, text, queue="q") -> None:
    driver = pool_of(driver, queue)
    if engine_of(driver) == "mongodb":
        driver.db[documents.MESSAGES].update_one(
            {"s": documents.scope(queue, P), "seq": int(message_id)}, {"$set": {"b": text}})
        return
    if engine_of(driver) == "sql":
        with driver.writer.begin() as conn:
            conn.execute(sa.text(
                "UPDATE messages SET body = :body WHERE seq = :seq AND queue_id = "
                "(SELECT id FROM queues WHERE name = :name AND project = :project)"),
                {"body": text, "seq": int(message_id), "name": queue, "project": P})
        return
    driver.client.hset(driver.keyspace.scope(queue, P).bodies, message_id, text)


def read_all(driver, cipher, queue="q"):
    found = driver.messages.list(queue, P, CLIENT, echo=True, include_claimed=True)
    return [cipher.open(P, msg.body) for msg in found]


def test_the_engine_never_holds_the_plaintext(driver, cipher):
    bodies = [PLAINTEXT, {"secret": PLAINTEXT}, [PLAINTEXT, 1]]
    post_sealed(driver, cipher, bodies)
    stored = raw_bodies(driver)
    assert len(stored) == 3
    for text in stored.values():
        assert "launch code" not in text
        assert text.startswith("~A1:")
    assert read_all(driver, cipher) == bodies


def test_equal_bodies_are_sealed_differently(driver, cipher):
    post_sealed(driver, cipher, [PLAINTEXT, PLAINTEXT])
    first, second = raw_bodies(driver).values()
    assert first != second  # a random nonce per message


def _flip_a_bit(text: str) -> str:
    head, encoded = text.rsplit(":", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    return f"{head}:{base64.b64encode(bytes(raw)).decode()}"


def test_an_altered_body_is_unreadable_and_the_others_still_read(driver, cipher):
    ids = post_sealed(driver, cipher, ["one", "two", "three"])
    stored = raw_bodies(driver)
    set_raw_body(driver, ids[1], _flip_a_bit(stored[ids[1]]))

    first, second, third = read_all(driver, cipher)

    assert (first, third) == ("one", "three")
    assert isinstance(second, Unreadable)
    assert "fails authentication" in second.reason


def test_a_body_from_another_project_does_not_open(driver, cipher):
    post_sealed(driver, cipher, ["mine"])
    driver.messages.post("q", P, [NewMessage(
        body=cipher.seal("another-project", "theirs"), ttl=300)], CLIENT)
    opened = read_all(driver, cipher)
    assert opened[0] == "mine"
    assert isinstance(opened[1], Unreadable)


def test_a_damaged_stored_form_is_unreadable(driver, cipher):
    [message_id] = post_sealed(driver, cipher, ["x"])
    set_raw_body(driver, message_id, "~A1:00000000:not base64!")
    [body] = read_all(driver, cipher)
    assert isinstance(body, Unreadable)
    assert "damaged" in body.reason


def test_a_wrong_key_is_unreadable_and_an_old_key_still_reads(driver, cipher, tmp_path):
    post_sealed(driver, cipher, ["before rotation"])
    stranger = BodyCipher(make_conf(tmp_path, transport={"message_encryption_key": "other"}))
    [body] = read_all(driver, stranger)
    assert isinstance(body, Unreadable)
    assert "key this server does not have" in body.reason

    rotated = BodyCipher(make_conf(tmp_path, transport={
        "message_encryption_key": "new", "message_encryption_old_keys": [SECRET]}))
    post_sealed(driver, rotated, ["after rotation"])
    assert read_all(driver, rotated) == ["before rotation", "after rotation"]


def test_a_dead_letter_move_keeps_the_body_sealed(driver, cipher):
    post_sealed(driver, cipher, [PLAINTEXT])
    policy = DeadLetter("dead", max_claims=0)
    assert driver.claims.create("q", P, 60, 60, 10, policy) is None
    assert all("launch code" not in text for text in raw_bodies(driver, "dead").values())
    assert read_all(driver, cipher, "dead") == [PLAINTEXT]
