"""Soak check for the Redis driver: does memory stay flat under steady traffic?

    .venv/bin/python tools/redis_soak.py --uri redis://127.0.0.1:6379/14 --seconds 60

Posts batches to a few queues with short TTLs, consumes part of them by claim and
delete and part by pop, leaves the rest (and some claims and subscriptions) to expire,
and collects garbage every ``--gc-interval`` seconds, as zaqar-server's periodic task
does. Every ``--report-interval`` seconds it prints the server's ``used_memory``, the
number of keys under its private prefix and the live messages. It asserts nothing: once
the first TTLs have passed, the figures should stop growing. Its keys are deleted at the
end; the Redis database it uses should hold nothing else it cares about.
"""
import argparse
import random
import time
import uuid

from zaqar import conf as zaqar_conf
from zaqar.storage import load_driver
from zaqar.storage.base import DataDriver, NewMessage

PROJECT = "soak"
CLIENT = "0f6b1c2e-9d0a-4c1e-8f3b-5a6d7e8f9a0b"
QUEUES = [f"soak-{n}" for n in range(8)]


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uri", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--ttl", type=int, default=10, help="message TTL, seconds")
    parser.add_argument("--gc-interval", type=float, default=5.0)
    parser.add_argument("--report-interval", type=float, default=5.0)
    return parser.parse_args()


def _traffic(driver: DataDriver, rng: random.Random, ttl: int) -> int:
    """One round: post 20, claim and delete about 8, pop about 6; the rest expires."""
    for queue in rng.sample(QUEUES, 2):
        driver.messages.post(queue, PROJECT, [
            NewMessage(body={"payload": "x" * rng.randint(50, 500)},
                       ttl=rng.randint(ttl // 2, ttl), delay=rng.choice((0, 0, 0, 2)))
            for _ in range(10)], CLIENT)
    queue = rng.choice(QUEUES)
    claim = driver.claims.create(queue, PROJECT, ttl=5, grace=5, limit=10)
    if claim is not None:  # delete most; the claim on the rest expires
        done = [message.id for message in claim.messages][:8]
        driver.messages.bulk_delete(queue, PROJECT, done, claim_ids=[claim.id])
    driver.messages.pop(rng.choice(QUEUES), PROJECT, 6)
    if rng.random() < 0.05:
        driver.subscriptions.create(rng.choice(QUEUES), PROJECT,
                                    f"http://{uuid.uuid4().hex}.example", 5, {})
    return 20


def main() -> None:
    args = _parse_args()
    prefix = f"zaqar-soak-{uuid.uuid4().hex[:8]}"
    conf = zaqar_conf.new_conf(default_config_files=[], overrides={
        "drivers": {"message_store": "redis"},
        "drivers:message_store:redis": {"uri": args.uri, "key_prefix": prefix}})
    driver = load_driver(conf)
    driver.prepare()
    client = driver.client  # type: ignore[attr-defined]
    rng = random.Random(42)
    started = time.monotonic()
    next_gc = next_report = started
    posted = removed = 0
    print(f"{'t (s)':>6} {'used_memory':>12} {'keys':>6} {'live msgs':>9} "
          f"{'posted':>8} {'gc removed':>10}")
    try:
        while (elapsed := time.monotonic() - started) < args.seconds:
            posted += _traffic(driver, rng, args.ttl)
            if time.monotonic() >= next_gc:
                removed += driver.collect_garbage()
                next_gc += args.gc_interval
            if time.monotonic() >= next_report:
                keys = sum(1 for _ in client.scan_iter(match=f"{prefix}:*", count=1000))
                live = sum(driver.queues.stats(queue, PROJECT).total for queue in QUEUES)
                print(f"{elapsed:6.0f} {client.info('memory')['used_memory']:>12} "
                      f"{keys:>6} {live:>9} {posted:>8} {removed:>10}", flush=True)
                next_report += args.report_interval
    finally:
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.unlink(key)
        driver.close()


if __name__ == "__main__":
    main()
