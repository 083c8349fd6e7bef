"""Eight concurrent claimer processes on one queue of a few thousand messages.

Over REST against a real server (SQLite, its default), and directly on the storage
driver of SQLite, PostgreSQL and Redis with claims of a few seconds that some workers
let expire. tests/storage/test_concurrent_claims.py races 5 processes with claims that
never expire; this adds expiry under contention and scale, reusing its worker pool.

A worker *holds* a message from the moment its claim returned to the moment it started
deleting or releasing it, or to the moment the claim was sure to have expired (the
instant the claim was requested plus its TTL), whichever comes first. Two holds of one
message by different claims may never overlap (double delivery while a claim lives = 0).
A delete counts as a consumption when it was acknowledged before that expiry; every
message must be consumed exactly once, and the queue left empty.
"""
import multiprocessing
import queue as stdlib_queue
import random
import time
import traceback
import uuid
from collections import Counter
from typing import Any

import pytest
import requests

from tests.storage.test_concurrent_claims import (
    Hold,
    P,
    WorkerPool,
    _assert_queue_empty,
    _overlapping_holds,
    _post_many,
)
from tests.torture.server import TORTURE_ENGINES, TortureServer, tracebacks
from zaqar.storage import errors
from zaqar.storage.base import DataDriver

CLAIMERS = 8
REST_CLAIM_TTL = 60  # the smallest a client may ask for (as upstream)
DRIVER_CLAIM_TTL = 3  # seconds: short, so expiry races with the claimers
WORKER_DEADLINE = 50.0  # seconds; WorkerPool waits 60 for its reports


def _check(holds: list[Hold], consumptions: list[tuple[str, str]], late: list[tuple],
           posted: set[str]) -> dict[str, Any]:
    """The figures of a run; asserts no double delivery and each message consumed once.

    ``consumptions``: (message id, claim id) of deletes acknowledged within their claim's
    life; ``late``: (message ids, claim id, acknowledged) of deletes sent past it."""
    overlapping = _overlapping_holds(holds)
    times = Counter(mid for mid, _ in consumptions)
    twice = sorted(mid for mid, count in times.items() if count > 1)
    # A delete acknowledged after its claim surely ended (a worker stalled by the load)
    # is a consumption only if nobody consumed the message within a claim.
    late_only = {mid for ids, _, acknowledged in late if acknowledged for mid in ids} - set(times)
    never = sorted(posted - set(times) - late_only)
    result = {"messages": len(posted), "claims": len({hold.claim_id for hold in holds}),
              "holds": len(holds), "reclaimed_messages": sum(
                  1 for count in Counter(hold.message_id for hold in holds).values() if count > 1),
              "double_delivery_while_claimed": len(overlapping),
              "consumed_twice": len(twice), "never_consumed": len(never),
              "late_deletes_sent": len(late), "consumed_by_a_late_delete": len(late_only)}
    assert overlapping[:5] == [], "a message was held by two live claims at once"
    assert twice[:20] == [], "a message was consumed by two acknowledged deletes"
    assert never[:20] == [], "a posted message was never consumed"
    return result


# -- directly on the storage driver --------------------------------------------------

def _claim_with_expiry(driver: DataDriver, rng: random.Random, index: int, queue: str,
                       ttl: int) -> dict:
    """Claim until the queue is empty. Every worker releases a few claims; odd workers
    sometimes stall past the claim's TTL before deleting (their claim expires, others
    take the messages, the stalled delete must then change nothing)."""
    holds: list[tuple] = []
    consumptions: list[tuple[str, str]] = []
    late: list[tuple[list[str], str, bool]] = []
    deadline = time.time() + WORKER_DEADLINE
    for taken in range(1_000_000):
        if time.time() > deadline:
            break
        asked = time.time()
        claim = driver.claims.create(queue, P, ttl=ttl, grace=0, limit=rng.randint(5, 10))
        held_from = time.time()
        if claim is None:
            if driver.queues.stats(queue, P).total == 0:
                break
            time.sleep(0.01)  # the rest is held by others, or by claims about to expire
            continue
        ends = asked + ttl
        ids = [msg.id for msg in claim.messages]
        if rng.random() < 0.05:
            release_from = time.time()
            driver.claims.delete(queue, P, claim.id)
            holds += [(mid, claim.id, held_from, min(release_from, ends), "released")
                      for mid in ids]
            continue
        if index % 2 and (taken == 2 or rng.random() < 0.03):
            time.sleep(ttl + rng.uniform(0.5, 1.5))  # stalled: the claim has expired
        delete_from = time.time()
        try:
            driver.messages.bulk_delete(queue, P, ids, claim_ids=[claim.id])
            acknowledged = True
        except (errors.MessageNotClaimed, errors.MessageNotClaimedBy):
            acknowledged = False
        done = time.time()
        holds += [(mid, claim.id, held_from, min(delete_from, ends), "deleted") for mid in ids]
        if done < ends and acknowledged:
            consumptions += [(mid, claim.id) for mid in ids]
        else:
            late.append((ids, claim.id, acknowledged))
    return {"holds": holds, "consumptions": consumptions, "late": late}


@pytest.fixture(scope="module")
def claimers() -> Any:
    pool = WorkerPool(CLAIMERS)
    yield pool
    pool.close()


@pytest.mark.parametrize("engine", TORTURE_ENGINES, indirect=True)
def test_claimers_on_the_driver_with_expiring_claims(engine, driver, claimers, scale, figures):
    queue = "torture-claims"
    posted = _post_many(driver, queue, scale.claim_messages)

    reports = claimers.run(engine, driver, _claim_with_expiry, queue, DRIVER_CLAIM_TTL)

    holds = [Hold(*hold[:2], report["worker"], *hold[2:])
             for report in reports for hold in report["holds"]]
    figures.update(engine=engine.name, processes=CLAIMERS, claim_ttl=DRIVER_CLAIM_TTL,
                   **_check(holds, [tuple(c) for r in reports for c in r["consumptions"]],
                            [tuple(late) for r in reports for late in r["late"]],
                            set(posted)))
    _assert_queue_empty(driver, queue)
    assert sum(1 for report in reports if report["consumptions"]) >= 4, "no real race"
    assert figures["late_deletes_sent"] > 0, "no claim expired under a stalled worker"


# -- over REST -----------------------------------------------------------------------

def _rest_claimer(index: int, url: str, project: str, queue: str, start: Any,
                  reports: Any, abandon: int, patience: float) -> None:
    """One claimer process over REST. Even workers delete one by one, odd ones in bulk
    with ``claim_ids``; all release a few claims; worker 0 abandons its first
    ``abandon`` claims (a consumer that died: they come back after the claim's TTL, which
    every worker waits for: ``patience`` seconds more)."""
    rng = random.Random(index)
    session = requests.Session()
    session.headers.update({"Client-ID": str(uuid.uuid4()), "X-Project-ID": project})
    base = f"{url}/v2/queues/{queue}"
    holds: list[tuple] = []
    consumptions: list[tuple[str, str]] = []
    late: list[tuple[list[str], str, bool]] = []
    statuses: Counter = Counter()
    try:
        session.get(f"{url}/v2/ping", timeout=30)  # connected before the race starts
        start.wait(timeout=60)
        deadline = time.time() + WORKER_DEADLINE + patience
        while time.time() < deadline:
            asked = time.time()
            response = session.post(f"{base}/claims", timeout=30, params={
                "limit": rng.randint(5, 10)}, json={"ttl": REST_CLAIM_TTL, "grace": 60})
            held_from = time.time()
            statuses[f"claim {response.status_code}"] += 1
            if response.status_code == 204:
                stats = session.get(f"{base}/stats", timeout=30).json()["messages"]
                if stats["total"] == 0:
                    break
                time.sleep(0.05 if stats["free"] else 0.5)  # claimed by others
                continue
            assert response.status_code == 201, response.text
            claim_id, ends = response.json()["claim_id"], asked + REST_CLAIM_TTL
            ids = [msg["id"] for msg in response.json()["messages"]]
            if abandon:
                abandon -= 1
                holds += [(mid, claim_id, held_from, ends, "abandoned") for mid in ids]
                continue
            if rng.random() < 0.05:
                release_from = time.time()
                status = session.delete(f"{base}/claims/{claim_id}", timeout=30).status_code
                statuses[f"release {status}"] += 1
                holds += [(mid, claim_id, held_from, min(release_from, ends), "released")
                          for mid in ids]
                continue
            delete_from = time.time()
            if index % 2:
                codes = [session.delete(f"{base}/messages", timeout=30, params={
                    "ids": ",".join(ids), "claim_ids": claim_id}).status_code]
            else:
                codes = [session.delete(f"{base}/messages/{mid}", timeout=30,
                                        params={"claim_id": claim_id}).status_code
                         for mid in ids]
            statuses.update(f"delete {code}" for code in codes)
            done = time.time()
            holds += [(mid, claim_id, held_from, min(delete_from, ends), "deleted")
                      for mid in ids]
            if done < ends and set(codes) == {204}:
                consumptions += [(mid, claim_id) for mid in ids]
            else:
                late.append((ids, claim_id, set(codes) == {204}))
        reports.put({"worker": index, "holds": holds, "consumptions": consumptions,
                     "late": late, "statuses": dict(statuses)})
    except BaseException:
        start.abort()
        reports.put({"worker": index, "error": traceback.format_exc()})


def _post_over_rest(url: str, project: str, queue: str, count: int) -> set[str]:
    session = requests.Session()
    session.headers.update({"Client-ID": str(uuid.uuid4()), "X-Project-ID": project})
    posted: set[str] = set()
    for first in range(0, count, 20):
        response = session.post(f"{url}/v2/queues/{queue}/messages", timeout=30, json={
            "messages": [{"ttl": 3600, "body": {"n": n}}
                         for n in range(first, min(count, first + 20))]})
        assert response.status_code == 201, response.text
        posted.update(response.json()["message_ids"])
    assert len(posted) == count
    return posted


def test_claimer_processes_over_rest(tmp_path, scale, figures):
    server = TortureServer(tmp_path)
    server.start()
    try:
        project, queue = f"torture-{uuid.uuid4().hex}", "claimed-over-rest"
        posted = _post_over_rest(server.url, project, queue, scale.claim_messages)
        abandon = 2 if scale.name == "full" else 0
        ctx = multiprocessing.get_context("spawn")
        start, reports_queue = ctx.Barrier(CLAIMERS), ctx.Queue()
        processes = [ctx.Process(target=_rest_claimer, daemon=True, args=(
            index, server.url, project, queue, start, reports_queue,
            abandon if index == 0 else 0, REST_CLAIM_TTL if abandon else 0))
            for index in range(CLAIMERS)]
        started = time.monotonic()
        for process in processes:
            process.start()
        reports = []
        limit = time.monotonic() + WORKER_DEADLINE + REST_CLAIM_TTL + 60
        while len(reports) < CLAIMERS and time.monotonic() < limit:
            try:
                reports.append(reports_queue.get(timeout=1))
            except stdlib_queue.Empty:
                if not any(process.is_alive() for process in processes):
                    break
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
        elapsed = time.monotonic() - started
        assert [report["error"] for report in reports if "error" in report] == []
        assert len(reports) == CLAIMERS, f"only {len(reports)} claimers reported"

        holds = [Hold(*hold[:2], report["worker"], *hold[2:])
                 for report in reports for hold in report["holds"]]
        statuses: Counter = Counter()
        for report in reports:
            statuses.update(report["statuses"])
        figures.update(processes=CLAIMERS, claim_ttl=REST_CLAIM_TTL, abandoned_claims=abandon,
                       seconds_to_consume=round(elapsed, 1),
                       **_check(holds, [tuple(c) for r in reports for c in r["consumptions"]],
                                [tuple(late) for r in reports for late in r["late"]], posted),
                       statuses=dict(statuses))
        assert not {status for status in statuses if status.split()[1].startswith("5")}
        stats = requests.get(f"{server.url}/v2/queues/{queue}/stats", timeout=30, headers={
            "Client-ID": str(uuid.uuid4()), "X-Project-ID": project}).json()
        assert stats["messages"]["total"] == 0, stats
        server.stop()
        assert tracebacks(server.output()) == []
    finally:
        server.kill()
