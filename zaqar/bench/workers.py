"""Producer, consumer and observer loops; each runs in its own process and reports counts."""
import time
from dataclasses import dataclass, field
from typing import Any

from zaqar.bench.clients import RestClient, WebsocketClient


@dataclass
class Options:
    url: str
    transport: str  # "rest" or "websocket"
    encoding: str  # websocket: "json" or "msgpack"
    project: str
    queues: int
    duration: float
    batch: int
    window: int
    claim_limit: int
    message_size: int


@dataclass
class Tally:
    role: str
    messages: int = 0
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)


def connect(options: Options) -> Any:
    if options.transport == "websocket":
        return WebsocketClient(options.url, options.project, options.encoding == "msgpack")
    return RestClient(options.url, options.project)


def queue_name(options: Options, index: int) -> str:
    return f"bench{index % options.queues}"


def produce(options: Options, index: int, progress: Any, out: Any) -> None:
    client = connect(options)
    queue = queue_name(options, index)
    messages = [{"ttl": 300, "body": {"event": "x" * options.message_size, "n": n}}
                for n in range(options.batch)]
    tally = Tally("producer")
    end = time.monotonic() + options.duration
    if isinstance(client, WebsocketClient):
        _produce_pipelined(client, queue, messages, end, options.window, tally, progress)
    else:
        while time.monotonic() < end:
            started = time.monotonic()
            ok = client.post(queue, messages)
            _count(tally, ok, len(messages), started, progress)
    out.put(tally)


def _produce_pipelined(client: WebsocketClient, queue: str, messages: list[Any], end: float,
                       window: int, tally: Tally, progress: Any) -> None:
    """Keep ``window`` posts in flight on one connection."""
    sent: list[float] = []
    body = {"queue_name": queue, "messages": messages}
    while time.monotonic() < end or sent:
        while len(sent) < window and time.monotonic() < end:
            client.send("message_post", body)
            sent.append(time.monotonic())
        status, _ = client.receive()
        _count(tally, status == 201, len(messages), sent.pop(0), progress)


def consume(options: Options, index: int, progress: Any, out: Any) -> None:
    client = connect(options)
    queue = queue_name(options, index)
    tally = Tally("consumer")
    end = time.monotonic() + options.duration
    while time.monotonic() < end:
        started = time.monotonic()
        claim_id, ids, ok = client.claim(queue, options.claim_limit)
        if ok and claim_id:
            ok = client.delete(queue, ids, claim_id)
        tally.requests += 1
        if not ok:
            tally.errors += 1
        elif claim_id:
            _count(tally, True, len(ids), started, progress)
        else:
            time.sleep(0.005)  # nothing to claim yet
    out.put(tally)


def observe(options: Options, index: int, progress: Any, out: Any) -> None:
    client = connect(options)
    queue = queue_name(options, index)
    tally = Tally("observer")
    marker = None
    end = time.monotonic() + options.duration
    while time.monotonic() < end:
        started = time.monotonic()
        ids, ok = client.list(queue, marker)
        _count(tally, ok, len(ids), started, None)
        marker = ids[-1] if ids else marker
        if ok and not ids:
            time.sleep(0.01)
    out.put(tally)


def _count(tally: Tally, ok: bool, messages: int, started: float, progress: Any) -> None:
    tally.requests += 1
    if not ok:
        tally.errors += 1
        return
    tally.messages += messages
    tally.latencies.append(time.monotonic() - started)
    if progress is not None:
        with progress.get_lock():
            progress.value += messages
