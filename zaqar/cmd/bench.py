"""``zaqar-bench``: producers, consumers and observers against a running server.

Example: ``zaqar-bench --transport websocket --url ws://127.0.0.1:9000 -p 2 -c 2 -t 10``.
Prints a progress line every second and a summary: messages/s posted and consumed,
request latency p50/p90/p99, errors. Exits by itself after ``--time`` seconds.
"""
import argparse
import contextlib
import multiprocessing
import queue
import sys
import time
import uuid
from collections.abc import Sequence

from zaqar.bench import workers
from zaqar.bench.report import summarize


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="zaqar-bench", description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["rest", "websocket"], default="rest")
    parser.add_argument("--url", help="server URL (default http://127.0.0.1:8888 for REST, "
                                      "ws://127.0.0.1:9000 for websocket)")
    parser.add_argument("--encoding", choices=["json", "msgpack"], default="json",
                        help="websocket frame encoding")
    parser.add_argument("-p", "--producers", type=int, default=2)
    parser.add_argument("-c", "--consumers", type=int, default=2)
    parser.add_argument("-o", "--observers", type=int, default=0)
    parser.add_argument("-t", "--time", type=float, default=10.0, help="seconds to run")
    parser.add_argument("--queues", type=int, default=2, help="queues to spread load over")
    parser.add_argument("--batch", type=int, default=10, help="messages per post")
    parser.add_argument("--window", type=int, default=8,
                        help="websocket posts in flight per producer")
    parser.add_argument("--claim-limit", type=int, default=10)
    parser.add_argument("--message-size", type=int, default=80, help="bytes of filler per body")
    parser.add_argument("--project", default=f"bench-{uuid.uuid4().hex[:8]}")
    args = parser.parse_args(argv)
    if args.url is None:
        args.url = ("ws://127.0.0.1:9000" if args.transport == "websocket"
                    else "http://127.0.0.1:8888")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse(sys.argv[1:] if argv is None else argv)
    options = workers.Options(args.url, args.transport, args.encoding, args.project,
                              args.queues, args.time, args.batch, args.window, args.claim_limit,
                              args.message_size)
    context = multiprocessing.get_context("spawn")
    posted, consumed = context.Value("q", 0), context.Value("q", 0)
    results = context.Queue()
    roles = ([(workers.produce, posted)] * args.producers
             + [(workers.consume, consumed)] * args.consumers
             + [(workers.observe, None)] * args.observers)
    processes = [context.Process(target=target, args=(options, index, counter, results))
                 for index, (target, counter) in enumerate(roles)]
    print(f"zaqar-bench: {args.producers} producers, {args.consumers} consumers, "
          f"{args.observers} observers over {args.transport} ({args.url}) for {args.time:g} s")
    started = time.monotonic()
    for process in processes:
        process.start()
    tallies = []
    while len(tallies) < len(processes):
        deadline = time.monotonic() + 1
        while len(tallies) < len(processes) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):  # nothing finished this second
                tallies.append(results.get(timeout=max(0.01, deadline - time.monotonic())))
        elapsed = time.monotonic() - started
        print(f"  {elapsed:5.1f} s  posted {posted.value:>9,}  consumed {consumed.value:>9,}",
              flush=True)
        if elapsed > args.time + 60 and not any(p.is_alive() for p in processes):
            break
    for process in processes:
        process.join(5)
    print(summarize(tallies, args.time))
    failed = [p for p in processes if p.exitcode]
    if failed:
        sys.exit(f"zaqar-bench: {len(failed)} worker process(es) failed; see above.")
