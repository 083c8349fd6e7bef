"""Claims, pops and posts under real concurrency: several OS processes, one queue.

Each worker is a separate process (``spawn``) with its own driver, loaded by its entry
point from the engine's configuration, as separate server workers would be. All of them
wait behind a barrier, then race on the same queue. They report what they saw; the
parent checks that no message was held by two claims at once, that every message was
consumed exactly once, and that nothing was lost.

A hold is reported as the window during which the worker *knew* it held the message:
from the moment ``claims.create`` returned to the moment it started deleting or
releasing. Two such windows of different claims on one message may never overlap;
this needs no clock agreement with the database, only the host's monotonic clock.
"""
import multiprocessing
import queue as stdlib_queue
import random
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import make_conf
from tests.engines import Engine
from zaqar.storage import load_driver
from zaqar.storage.base import DataDriver, DeadLetter, NewMessage

P = "project-concurrency"
CLIENT = "5d3c5a0e-6c1f-4b8e-9f0e-2c5b7d1e8a41"
MESSAGES = 600
WORKERS = 5
CLAIM_TTL = 120  # far beyond the test: a claim ends only by delete or release
WORKER_DEADLINE = 30.0  # seconds a worker may loop; the parent waits a little longer


@dataclass(frozen=True)
class Hold:
    message_id: str
    claim_id: str
    worker: int
    start: float
    end: float
    fate: str  # "deleted" or "released"


# -- worker processes -----------------------------------------------------------------

def _serve_jobs(index: int, inbox: Any, start: Any, reports: Any) -> None:
    """Main loop of each spawned process: run the jobs of the inbox until None comes."""
    for job, groups, data_dir, args in iter(inbox.get, None):
        reports.put({"worker": index, **_run_job(job, groups, data_dir, start, index, args)})


def _run_job(job: Callable[..., dict], groups: dict, data_dir: str, start: Any, index: int,
             args: tuple) -> dict:
    """One job on a driver of this process's own, started with everyone at the barrier."""
    driver = None
    try:
        driver = load_driver(make_conf(data_dir, **groups))
        driver.queues.stats(args[0], P)  # open the connection before the race starts
        start.wait(timeout=60)
        return job(driver, random.Random(index), index, *args)
    except BaseException:
        start.abort()  # nobody waits forever for a worker that failed before the start
        return {"error": f"worker {index}:\n{traceback.format_exc()}"}
    finally:
        if driver is not None:
            driver.close()


def _nothing_left(driver: DataDriver, queue: str) -> bool:
    return driver.queues.stats(queue, P).total == 0


def _consume_by_claims(driver: DataDriver, rng: random.Random, index: int, queue: str,
                       release_share: float) -> dict:
    """Claim batches until the queue is empty; delete them. Even workers release a part
    of a claim now and then (``release_share`` of their claims), so messages are
    claimed again."""
    if index % 2:
        release_share = 0.0
    holds: list[tuple] = []
    deleted: list[str] = []
    anomalies: list[str] = []
    deadline = time.monotonic() + WORKER_DEADLINE
    while time.monotonic() < deadline:
        limit = rng.randint(7, 10)
        claim = driver.claims.create(queue, P, ttl=CLAIM_TTL, grace=CLAIM_TTL, limit=limit)
        held_from = time.monotonic()
        if claim is None:
            if _nothing_left(driver, queue):
                break
            time.sleep(0.005)  # the rest is held by others, who may release it
            continue
        ids = [msg.id for msg in claim.messages]
        if not 1 <= len(ids) <= limit:
            anomalies.append(f"claim {claim.id} took {len(ids)} messages, limit {limit}")
        anomalies += [f"claim {claim.id} returned {msg.id} held by {msg.claim_id}"
                      for msg in claim.messages if msg.claim_id != claim.id]
        released = ids[rng.randint(0, len(ids) - 1):] if rng.random() < release_share else []
        to_delete = ids[:len(ids) - len(released)]
        time.sleep(rng.uniform(0.001, 0.005))  # hold a moment, as a consumer at work would
        delete_from = time.monotonic()
        driver.messages.bulk_delete(queue, P, to_delete, claim_ids=[claim.id])
        holds += [(mid, claim.id, held_from, delete_from, "deleted") for mid in to_delete]
        deleted += to_delete
        if released:
            release_from = time.monotonic()
            driver.claims.delete(queue, P, claim.id)
            holds += [(mid, claim.id, held_from, release_from, "released") for mid in released]
    return {"holds": holds, "deleted": deleted, "anomalies": anomalies}


def _consume_by_pops(driver: DataDriver, rng: random.Random, index: int,
                     queue: str) -> dict:
    popped: list[tuple[str, Any]] = []
    deadline = time.monotonic() + WORKER_DEADLINE
    while time.monotonic() < deadline:
        got = driver.messages.pop(queue, P, rng.randint(5, 10))
        popped += [(msg.id, msg.body) for msg in got]
        if not got:
            if _nothing_left(driver, queue):
                break
            time.sleep(0.005)  # the rest is locked by other poppers' transactions
        time.sleep(rng.uniform(0, 0.003))  # work on them, as a consumer would
    return {"popped": popped}


def _batch_size(seq: int) -> int:
    """Mostly single messages: many short transactions give a reader most chances to
    pass an id whose message commits later."""
    return 3 if seq % 10 == 9 else 1


def _produce_or_follow(driver: DataDriver, rng: random.Random, index: int, queue: str,
                       batches: int) -> dict:
    """Worker 0 pages through the queue by marker while the others post into it."""
    if index == 0:
        return _follow(driver, queue, (WORKERS - 1) * sum(map(_batch_size, range(batches))))
    posted: list[list[str]] = []
    for seq in range(batches):
        posted.append(driver.messages.post(
            queue, P, [NewMessage(body={"worker": index, "seq": seq, "part": part}, ttl=300)
                       for part in range(_batch_size(seq))], CLIENT))
    return {"posted": posted}


def _follow(driver: DataDriver, queue: str, expected: int) -> dict:
    """Read new messages as they come, as a listing consumer does, until all are in."""
    seen: list[str] = []
    marker = None
    deadline = time.monotonic() + WORKER_DEADLINE
    while time.monotonic() < deadline:
        complete = driver.queues.stats(queue, P).total >= expected  # all posts committed
        page = driver.messages.list(queue, P, CLIENT, marker=marker, limit=20, echo=True)
        if not page:
            if complete:
                break
            time.sleep(0.002)
            continue
        seen += [msg.id for msg in page]
        marker = page[-1].id
    return {"posted": [], "seen": seen}


# -- the parent side ------------------------------------------------------------------

class WorkerPool:
    """Spawned processes, started once per module (imports are the slow part); each run
    hands every one of them the same job and releases them together at a barrier."""

    def __init__(self, size: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.size = size
        self._start = ctx.Barrier(size)
        self._inboxes = [ctx.Queue() for _ in range(size)]
        self._reports = ctx.Queue()
        self._processes = [ctx.Process(target=_serve_jobs, daemon=True,
                                       args=(index, inbox, self._start, self._reports))
                           for index, inbox in enumerate(self._inboxes)]
        for process in self._processes:
            process.start()

    def run(self, engine: Engine, driver: DataDriver, job: Callable[..., dict],
            *args: Any) -> list[dict]:
        """Run ``job`` in every process against ``driver``'s store; their reports.

        Workers configure ``engine`` as ``driver`` was; the data directory holds
        SQLite's database file.
        """
        assert self._processes, "the worker pool was closed after an earlier failure"
        for inbox in self._inboxes:
            inbox.put((job, engine.conf_groups(), driver.conf.data_dir, args))
        reports: list[dict] = []
        deadline = time.monotonic() + WORKER_DEADLINE + 30  # the first run imports first
        while len(reports) < self.size and time.monotonic() < deadline:
            try:
                reports.append(self._reports.get(timeout=0.5))
            except stdlib_queue.Empty:
                if not all(process.is_alive() for process in self._processes):
                    break
        if len(reports) < self.size:
            self.close()  # a late report would be taken for the next run's
        if self._start.broken:
            self._start.reset()
        errors = [report["error"] for report in reports if "error" in report]
        assert not errors, "\n".join(errors)
        assert len(reports) == self.size, f"only {len(reports)} of {self.size} workers reported"
        return sorted(reports, key=lambda report: report["worker"])

    def close(self) -> None:
        for inbox in self._inboxes:
            inbox.put(None)
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
        self._processes = []


@pytest.fixture(scope="module")
def workers() -> Iterator[WorkerPool]:
    pool = WorkerPool(WORKERS)
    yield pool
    pool.close()


def _post_many(driver: DataDriver, queue: str, count: int) -> dict[str, Any]:
    """Post ``count`` messages; {id: body}."""
    bodies = [{"n": n} for n in range(count)]
    ids = driver.messages.post(queue, P, [NewMessage(body=body, ttl=300) for body in bodies],
                               CLIENT)
    return dict(zip(ids, bodies, strict=True))


def _list_all(driver: DataDriver, queue: str) -> list[Any]:
    listed, marker = [], None
    for _ in range(MESSAGES):  # bounded: a page always moves the marker on
        page = driver.messages.list(queue, P, CLIENT, marker=marker, limit=100, echo=True,
                                    include_claimed=True, include_delayed=True)
        if not page:
            return listed
        listed += page
        marker = page[-1].id
    raise AssertionError("listing did not end")


def _assert_queue_empty(driver: DataDriver, queue: str) -> None:
    assert driver.queues.stats(queue, P).total == 0
    assert _list_all(driver, queue) == []


def _overlapping_holds(holds: list[Hold]) -> list[tuple[Hold, Hold]]:
    by_message: dict[str, list[Hold]] = defaultdict(list)
    for hold in holds:
        by_message[hold.message_id].append(hold)
    return [(a, b) for same in by_message.values()
            for i, a in enumerate(same) for b in same[i + 1:]
            if a.claim_id != b.claim_id and a.start < b.end and b.start < a.end]


def _held_after_delete(holds: list[Hold]) -> list[Hold]:
    """Holds that began after their message's deletion had begun: a deleted message
    came back."""
    deleted_at = {hold.message_id: hold.end for hold in holds if hold.fate == "deleted"}
    return [hold for hold in holds if hold.start > deleted_at.get(hold.message_id, hold.start)]


def _claims_held_at_once(holds: list[Hold]) -> int:
    """Pairs of claims of different workers that were held at the same instant."""
    spans: dict[str, tuple[int, float, float]] = {}
    for hold in holds:
        _, _, end = spans.get(hold.claim_id, (hold.worker, hold.start, hold.end))
        spans[hold.claim_id] = (hold.worker, hold.start, max(end, hold.end))
    return sum(1 for a in spans.values() for b in spans.values()
               if a[0] < b[0] and a[1] < b[2] and b[1] < a[2])


# -- tests ----------------------------------------------------------------------------

def test_concurrent_claimers_never_share_a_message_and_consume_each_once(engine, driver, workers):
    queue = "claimed-concurrently"
    posted = _post_many(driver, queue, MESSAGES)

    reports = workers.run(engine, driver, _consume_by_claims, queue, 0.3)

    holds = [Hold(*hold[:2], report["worker"], *hold[2:])
             for report in reports for hold in report["holds"]]
    assert [a for report in reports for a in report["anomalies"]] == []
    assert _overlapping_holds(holds) == []
    assert _held_after_delete(holds) == []
    deleted = Counter(mid for report in reports for mid in report["deleted"])
    assert set(deleted) == set(posted), "a posted message was never consumed"
    assert [mid for mid, times in deleted.items() if times > 1] == []
    _assert_queue_empty(driver, queue)

    # The race was real: several workers held claims at the same time, and released
    # messages were claimed again. (SQLite's lock backoff may starve a worker a while.)
    assert sum(1 for report in reports if report["holds"]) >= 2
    assert _claims_held_at_once(holds) >= 3
    assert any(hold.fate == "released" for hold in holds)
    claims_per_message = Counter(hold.message_id for hold in holds)
    assert any(times > 1 for times in claims_per_message.values())


def test_concurrent_pops_take_each_message_once(engine, driver, workers):
    queue = "popped-concurrently"
    posted = _post_many(driver, queue, MESSAGES)

    reports = workers.run(engine, driver, _consume_by_pops, queue)

    popped = [item for report in reports for item in report["popped"]]
    times_popped = Counter(mid for mid, _ in popped)
    assert [mid for mid, times in times_popped.items() if times > 1] == []
    assert set(times_popped) == set(posted), "a posted message was never popped"
    assert all(posted[mid] == body for mid, body in popped)
    assert sum(1 for report in reports if report["popped"]) >= 2
    _assert_queue_empty(driver, queue)


def test_concurrent_posts_are_all_listed_in_each_producers_order(engine, driver, workers):
    queue = "posted-concurrently"

    reports = workers.run(engine, driver, _produce_or_follow, queue, 100)

    listed = _list_all(driver, queue)
    position = {msg.id: i for i, msg in enumerate(listed)}
    returned = [mid for report in reports for batch in report["posted"] for mid in batch]
    assert len(set(returned)) == len(returned), "two posts got the same id"
    assert set(position) == set(returned), "listed ids differ from the acknowledged ones"
    for report in reports[1:]:
        mine = [mid for batch in report["posted"] for mid in batch]
        assert [position[mid] for mid in mine] == sorted(position[mid] for mid in mine)
        bodies = [listed[position[mid]].body for mid in mine]
        assert bodies == [{"worker": report["worker"], "seq": seq, "part": part}
                          for seq, batch in enumerate(report["posted"])
                          for part in range(len(batch))]
    # Paging by marker while posts commit must not step over a message.
    follower = reports[0]["seen"]
    assert sorted(set(returned) - set(follower), key=int) == []
    assert follower == [msg.id for msg in listed]


# -- dead letters ---------------------------------------------------------------------

DEAD_LETTER = DeadLetter("dead-letters", max_claims=2)


def _claim_and_release_all(driver: DataDriver, rng: random.Random, index: int,
                           queue: str) -> dict:
    """Claim with a dead-letter policy and release every claim, until the queue is
    empty: each message is claimed max_claims times, then moved by some claim."""
    claimed: list[tuple[int, int]] = []  # (message number n of the body, claim count)
    deadline = time.monotonic() + WORKER_DEADLINE
    while time.monotonic() < deadline:
        claim = driver.claims.create(queue, P, CLAIM_TTL, CLAIM_TTL, rng.randint(3, 8),
                                     DEAD_LETTER)
        if claim is None:
            if _nothing_left(driver, queue):
                break
            time.sleep(0.005)
            continue
        claimed += [(msg.body["n"], msg.claim_count) for msg in claim.messages]
        time.sleep(rng.uniform(0, 0.002))
        driver.claims.delete(queue, P, claim.id)
    return {"claimed": claimed}


def _assert_each_moved_once(driver: DataDriver, posted: dict[str, Any]) -> None:
    """The source is empty and the dead-letter queue holds every posted body once,
    claimed max_claims times."""
    _assert_queue_empty(driver, "dead-source")
    dead = _list_all(driver, DEAD_LETTER.queue)
    assert sorted(msg.body["n"] for msg in dead) == sorted(b["n"] for b in posted.values())
    assert {msg.claim_count for msg in dead} == {DEAD_LETTER.max_claims}


def test_concurrent_claimers_move_each_dead_letter_once(engine, driver, workers):
    posted = _post_many(driver, "dead-source", MESSAGES // 2)

    reports = workers.run(engine, driver, _claim_and_release_all, "dead-source")

    claimed = Counter(n for report in reports for n, _ in report["claimed"])
    # Delivered exactly max_claims times each, never again once moved.
    assert set(claimed.values()) == {DEAD_LETTER.max_claims}
    assert len(claimed) == len(posted)
    counts = defaultdict(list)
    for report in reports:
        for n, count in report["claimed"]:
            counts[n].append(count)
    assert all(sorted(seen) == [1, 2] for seen in counts.values())
    assert sum(1 for report in reports if report["claimed"]) >= 2
    _assert_each_moved_once(driver, posted)


def _claim_until_killed(groups: dict, data_dir: str, queue: str, ready: Any) -> None:
    """A claimer that is SIGKILLed at some point of its loop: with luck in the middle
    of a claim's transaction, moving dead letters. Its claims are short, so what it
    held frees itself."""
    driver = load_driver(make_conf(data_dir, **groups))
    rng = random.Random()
    ready.set()
    while True:
        claim = driver.claims.create(queue, P, 1, 0, rng.randint(1, 10), DEAD_LETTER)
        if claim is not None and rng.random() < 0.5:
            driver.claims.delete(queue, P, claim.id)


def test_claimers_killed_mid_claim_lose_and_duplicate_nothing(engine, driver):
    posted = _post_many(driver, "dead-source", 200)
    ctx = multiprocessing.get_context("spawn")
    rng = random.Random(7)
    kills = 0
    for _ in range(3):  # rounds of claimers started, then killed at random moments
        readies = [ctx.Event() for _ in range(3)]
        processes = [ctx.Process(target=_claim_until_killed, daemon=True, args=(
            engine.conf_groups(), driver.conf.data_dir, "dead-source", ready))
            for ready in readies]
        for process in processes:
            process.start()
        assert all(ready.wait(60) for ready in readies), "a claimer did not start"
        for process in processes:
            time.sleep(rng.uniform(0.05, 0.3))
            process.kill()
            process.join()
            kills += 1
    assert kills == 9
    time.sleep(1.5)  # the killed claimers' claims end
    while (claim := driver.claims.create("dead-source", P, CLAIM_TTL, 0, 20,
                                         DEAD_LETTER)) is not None:
        driver.claims.delete("dead-source", P, claim.id)
    _assert_each_moved_once(driver, posted)
