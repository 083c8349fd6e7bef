"""The live dashboard behind a real Keystone, in headless Chromium: a token of project A
shows A's queues and rows and never B's; a bad token is refused on the page."""
import time
import uuid

from tests.functional.browser import Page, browser, page
from tests.functional.keystone.conftest import Client

__all__ = ["browser", "page"]  # fixtures, imported for pytest

_FIND_ROW = ("document.querySelector(`section[data-queue='${arguments[0]}'] "
             "tr[data-key='${arguments[1]}']`)")
LIVE = "return document.getElementById('status').dataset.state === 'live'"


def instance(instance_id: str, state: str) -> dict:
    return {"event_type": "compute.instance.update",
            "payload": {"instance_id": instance_id, "state": state}}


def post(client: Client, queue: str, *bodies: dict) -> None:
    reply = client.post(f"/v2/queues/{queue}/messages",
                        json={"messages": [{"body": body, "ttl": 600} for body in bodies]})
    assert reply.status_code == 201, reply.text


def sign_in_with_token(page: Page, url: str, token: str) -> None:
    page.open(f"{url}/dashboard")
    page.wait_for("return !document.getElementById('signin').hidden", what="the sign-in form")
    assert page.js("return !document.getElementById('token-field').hidden")
    page.driver.find_element("id", "token").send_keys(token)
    page.driver.find_element("css selector", "#signin button").click()


def test_a_token_of_project_a_never_shows_project_bs_queues_or_rows(
        zaqar, accounts, alice: Client, bob: Client, page: Page) -> None:
    mine, theirs = f"a-{uuid.uuid4().hex[:8]}", f"secret-{uuid.uuid4().hex[:8]}"
    post(alice, mine, instance("a-1", "building"))
    post(bob, theirs, instance("b-1", "active"))
    post(bob, mine, instance("b-2", "active"))  # the same queue name in project B
    sign_in_with_token(page, zaqar.url, accounts.alice)
    page.wait_for(LIVE, what="the page live with alice's token")
    page.wait_for(f"return {_FIND_ROW}", mine, "a-1", what="alice's row")
    post(alice, mine, instance("a-2", "building"))
    page.wait_for(f"return {_FIND_ROW}", mine, "a-2", timeout=1.0,
                  what="alice's new row within 1 s")
    post(bob, mine, instance("b-3", "active"))
    time.sleep(2.5)  # a refresh of the queue list and a push round have run since
    shown = page.js("return Array.from(document.querySelectorAll('[data-key], [data-queue]'),"
                    " (node) => node.dataset.key || node.dataset.queue)")
    assert theirs not in shown
    assert not any(str(name).startswith("b-") for name in shown), shown
    page.screenshot("keystone")


def test_a_bad_token_is_refused_on_the_page(zaqar, page: Page) -> None:
    sign_in_with_token(page, zaqar.url, "not-a-token")
    page.wait_for("return !document.getElementById('signin').hidden && "
                  "document.getElementById('signin-error').textContent.includes('refused')",
                  what="the sign-in refused")
