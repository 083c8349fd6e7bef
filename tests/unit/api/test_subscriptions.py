"""Subscription actions of zaqar/api/subscriptions.py over a real SQLite store: the
documents and headers upstream's REST layer answers with."""
from collections.abc import Iterator

import pytest

from tests.conftest import make_conf
from zaqar.api import Api, Request, Response
from zaqar.api.errors import BadRequest, Conflict
from zaqar.storage.sqlalchemy.driver import SqlDriver

PROJECT = "project-a"
CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"
PUSH = "websocket:connection-1"


@pytest.fixture
def api(tmp_path) -> Iterator[Api]:
    conf = make_conf(tmp_path)
    storage = SqlDriver(conf)
    storage.prepare()
    yield Api(storage, conf)
    storage.close()


def call(api: Api, action: str, push_subscriber: str | None = None,
         **params: object) -> Response:
    return api.dispatch(action, Request(PROJECT, CLIENT, dict(params),
                                        push_subscriber=push_subscriber))


def test_created_subscription_is_located_at_its_collection(api):
    created = call(api, "subscription_create", PUSH, queue_name="q", ttl=600)
    assert created.status == 201
    assert set(created.body) == {"subscription_id"}
    assert created.headers == {"Location": "/v2/queues/q/subscriptions"}


def test_second_subscription_to_the_same_subscriber_is_409(api):
    first = call(api, "subscription_create", PUSH, queue_name="q").body["subscription_id"]
    with pytest.raises(Conflict):
        call(api, "subscription_create", PUSH, queue_name="q")
    listed = call(api, "subscription_list", queue_name="q").body["subscriptions"]
    assert [s["id"] for s in listed] == [first]


def test_update_leaves_null_fields_and_replaces_options_whole(api):
    subscription_id = call(api, "subscription_create", PUSH, queue_name="q", ttl=600,
                           options={"a": 1}).body["subscription_id"]
    ids = {"queue_name": "q", "subscription_id": subscription_id}
    updated = call(api, "subscription_update", subscriber=None, ttl=900, options={}, **ids)
    assert (updated.status, updated.headers) == (
        204, {"Location": f"/v2/queues/q/subscriptions/{subscription_id}"})
    got = call(api, "subscription_get", **ids).body
    assert (got["subscriber"], got["ttl"], got["options"]) == (PUSH, 900, {})


def test_update_with_only_nulls_is_refused(api):
    subscription_id = call(api, "subscription_create", PUSH,
                           queue_name="q").body["subscription_id"]
    with pytest.raises(BadRequest, match="null leaves a field unchanged"):
        call(api, "subscription_update", queue_name="q", subscription_id=subscription_id,
             subscriber=None, ttl=None, options=None)


def test_confirm_is_located_at_the_confirmation(api):
    subscription_id = call(api, "subscription_create", PUSH,
                           queue_name="q").body["subscription_id"]
    confirmed = call(api, "subscription_confirm", queue_name="q",
                     subscription_id=subscription_id, confirmed=True)
    assert confirmed.headers == {
        "Location": f"/v2/queues/q/subscriptions/{subscription_id}/confirm"}
