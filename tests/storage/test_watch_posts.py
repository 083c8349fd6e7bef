"""The optional part of the contract: ``DataDriver.watch_posts``.

An engine that cannot announce posts returns None (its callers poll). One that can
announces a post made through another driver of the same store, once per post, until
the watch is closed; closing it leaves no thread behind.
"""
import queue
import threading
import time

import pytest

from zaqar.storage.base import DataDriver, NewMessage, Watch

P = "project-a"
CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"
WAIT = 5.0  # seconds an announcement may take on a loaded machine


class Heard:
    """The announcements a watch reports, from its own thread."""

    def __init__(self) -> None:
        self.announced: queue.Queue[tuple[str, str]] = queue.Queue()

    def __call__(self, queue_name: str, project: str) -> None:
        self.announced.put((queue_name, project))

    def next(self, timeout: float = WAIT) -> tuple[str, str]:
        return self.announced.get(timeout=timeout)

    def nothing_within(self, seconds: float) -> bool:
        try:
            self.announced.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def forget(self) -> None:
        while not self.announced.empty():
            self.announced.get_nowait()


def post(driver: DataDriver, queue_name: str = "q", n: int = 1, project: str = P) -> None:
    driver.messages.post(queue_name, project,
                         [NewMessage(body={"n": i}, ttl=300) for i in range(n)], CLIENT)


def wait_until_listening(driver: DataDriver, heard: Heard) -> None:
    """Posts made while a watch connects may go unannounced: post to a queue of its own
    until one is heard, then forget what was."""
    deadline = time.monotonic() + WAIT
    while True:
        post(driver, "warm-up")
        try:
            heard.next(timeout=0.05)
            break
        except queue.Empty:
            assert time.monotonic() < deadline, "the watch announced nothing"
    time.sleep(0.1)  # let announcements of the other warm-up posts arrive
    heard.forget()


def start_watch(another_driver: DataDriver, on_post: Heard) -> Watch:
    watch = another_driver.watch_posts(on_post)
    assert watch is not None
    return watch


def test_a_watch_is_given_exactly_by_the_engines_that_announce_posts(engine, another_driver):
    watch = another_driver.watch_posts(Heard())
    try:
        assert (watch is not None) == engine.announces_posts
    finally:
        if watch is not None:
            watch.close()


@pytest.mark.announcing
def test_a_post_through_another_connection_is_announced_once(driver, another_driver):
    heard = Heard()
    watch = start_watch(another_driver, heard)
    try:
        wait_until_listening(driver, heard)
        post(driver, "q", n=3)
        post(driver, "q", project="project:with:colons")
        assert heard.next() == ("q", P)
        assert heard.next() == ("q", "project:with:colons")
        assert heard.nothing_within(0.3)
    finally:
        watch.close()


@pytest.mark.announcing
def test_closing_the_watch_ends_its_thread_and_its_announcements(driver, another_driver):
    threads_before = set(threading.enumerate())
    heard = Heard()
    watch = start_watch(another_driver, heard)
    wait_until_listening(driver, heard)

    watch.close()
    watch.close()  # a second close is no error
    post(driver, "q")
    assert set(threading.enumerate()) == threads_before
    assert heard.nothing_within(0.3)


@pytest.mark.announcing
def test_a_failing_callback_does_not_end_the_watch(driver, another_driver):
    heard = Heard()
    calls = []

    def on_post(queue_name: str, project: str) -> None:
        calls.append(queue_name)
        if queue_name == "fails":
            raise RuntimeError("a caller's bug")
        heard(queue_name, project)

    watch = start_watch(another_driver, on_post)
    try:
        wait_until_listening(driver, heard)
        post(driver, "fails")
        post(driver, "q")
        assert heard.next() == ("q", P)
        assert "fails" in calls
    finally:
        watch.close()
