"""What the Redis post watch adds to the contract: it comes back after losing its
connection, and announces posts again."""
import time

import pytest

from tests import engines
from tests.storage.test_watch_posts import WAIT, Heard, post, wait_until_listening

pytestmark = pytest.mark.parametrize("engine", [engines.REDIS.name], indirect=True)


def pubsub_client_ids(driver) -> set[str]:
    return {client["id"] for client in driver.client.client_list(_type="pubsub")}


def test_watch_reconnects_after_its_connection_is_killed(driver, another_driver):
    others = pubsub_client_ids(driver)
    heard = Heard()
    watch = another_driver.watch_posts(heard)
    try:
        wait_until_listening(driver, heard)
        [watch_client] = pubsub_client_ids(driver) - others
        driver.client.client_kill_filter(_id=watch_client)

        deadline = time.monotonic() + WAIT
        while driver.client.pubsub_numsub(driver.keyspace.posts)[0][1] == 0:
            assert time.monotonic() < deadline, "the watch did not subscribe again"
            time.sleep(0.05)
        wait_until_listening(driver, heard)
        post(driver, "q")
        assert heard.next() == ("q", "project-a")
    finally:
        watch.close()
