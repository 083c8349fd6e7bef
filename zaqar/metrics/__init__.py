"""Prometheus metrics of every process of a ``zaqar-server`` (prometheus_client).

The REST workers, the websocket processes and the notifier are separate processes, so
the metrics use prometheus_client's multi-process mode: each process writes its values
to files in one directory per server (:func:`use_directory`, called by ``zaqar-server``
before any process starts), and ``/metrics`` adds them up at each scrape. Without such a
directory (the WSGI application under uwsgi or mod_wsgi with no
``PROMETHEUS_MULTIPROC_DIR``), a process reports its own values only.

Metric objects are made on first use, not at import: prometheus_client chooses how
values are stored when it is first imported, which must come after
:func:`use_directory`. No label ever carries a project id, a queue name or a client id:
``/metrics`` is read by monitoring, which must learn nothing of the tenants.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zaqar.api import Api, Request, Response

ENVIRONMENT = "PROMETHEUS_MULTIPROC_DIR"
# Latency buckets (seconds) from a fast claim on Redis to a long poll's longest wait.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            5.0, 10.0, 20.0)


def use_directory(path: str) -> None:
    """Make ``path`` the multi-process directory of this process and of every process it
    starts afterwards, emptied first (values of a previous run would be added up)."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, mode=0o700)
    os.environ[ENVIRONMENT] = path


def mark_process_dead(pid: int) -> None:
    """Drop a finished process's live gauges (websocket connections it held)."""
    if os.environ.get(ENVIRONMENT):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


class Metrics:
    """Every metric of the service."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter(
            "zaqar_requests", "Actions run, by transport, action and status (a long poll "
            "at each run).",
            ["transport", "action", "status"])
        self.latency = Histogram(
            "zaqar_request_duration_seconds", "Time an action took to run, by "
            "transport and action (a long poll is counted at each run, its waits not "
            "included).", ["transport", "action"],
            buckets=_BUCKETS)
        self.http_responses = Counter(
            "zaqar_http_responses", "REST responses, by method and status, including "
            "those refused before any action (authentication, unknown routes).",
            ["method", "status"])
        self.messages_posted = Counter("zaqar_messages_posted", "Messages posted.")
        self.messages_claimed = Counter("zaqar_messages_claimed", "Messages claimed.")
        self.messages_deleted = Counter(
            "zaqar_messages_deleted", "Messages deleted by request (one by one, in bulk "
            "or popped); expiry not included.")
        self.websocket_connections = Gauge(
            "zaqar_websocket_connections", "Open websocket connections.",
            multiprocess_mode="livesum")
        self.long_polls_waiting = Gauge(
            "zaqar_long_polls_waiting", "REST requests waiting for messages (wait=N).",
            multiprocess_mode="livesum")
        self.notification_deliveries = Counter(
            "zaqar_notification_deliveries", "Delivery attempts of the notifier, by "
            "subscriber scheme and outcome (delivered, retryable, failed).",
            ["scheme", "outcome"])


_made: list[Metrics] = []
_making = threading.Lock()


def metrics() -> Metrics:
    """The process's metrics, made at the first call (from any thread: registering them
    twice would raise)."""
    if not _made:
        with _making:
            if not _made:
                _made.append(Metrics())
    return _made[0]


def render() -> tuple[bytes, str]:
    """The exposition text of every process of the server, and its content type."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    metrics()  # so that a process that has counted nothing still lists every metric
    if os.environ.get(ENVIRONMENT):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def _messages_deleted(action: str, req: Request, response: Response) -> int:
    if action == "message_delete":
        return 1
    if action in ("message_pop", "message_delete_many") and isinstance(response.body, dict):
        popped = response.body.get("messages")
        if isinstance(popped, list):
            return len(popped)
    ids = req.params.get("message_ids")
    return len(ids) if action == "message_delete_many" and isinstance(ids, list) else 0


def count_messages(action: str, req: Request, response: Response) -> None:
    """Messages posted, claimed or deleted by one successful action."""
    body = response.body if isinstance(response.body, dict) else {}
    if action in ("message_post", "topic_message_post"):
        metrics().messages_posted.inc(len(body.get("message_ids", ())))
    elif action == "claim_create":
        metrics().messages_claimed.inc(len(body.get("messages", ())))
    else:
        deleted = _messages_deleted(action, req, response)
        if deleted:
            metrics().messages_deleted.inc(deleted)


def observe_dispatch(api: Api, transport: str,
                     on_success: Callable[[str, Request, Response], None] | None = None
                     ) -> None:
    """Count and time every action ``api.dispatch`` runs for ``transport`` ("rest",
    "websocket"); ``on_success`` is called after each action that succeeded."""
    from zaqar.api.errors import ApiError

    dispatch = api.dispatch
    known = set(api.actions)

    def observed(action: str, req: Request) -> Response:
        name = action if action in known else "unknown"
        begun = time.perf_counter()
        status = 500
        try:
            response = dispatch(action, req)
            status = response.status
        except ApiError as error:
            status = error.status
            raise
        finally:
            m = metrics()
            m.requests.labels(transport, name, str(status)).inc()
            m.latency.labels(transport, name).observe(time.perf_counter() - begun)
        if status < 400:
            count_messages(action, req, response)
            if on_success is not None:
                on_success(action, req, response)
        return response

    api.dispatch = observed  # type: ignore[method-assign]


def count_delivery(scheme: str, outcome: Any) -> None:
    """One delivery attempt of the notifier (a :class:`zaqar.notification.base.Outcome`)."""
    label = "delivered" if outcome.delivered else "retryable" if outcome.retryable else "failed"
    metrics().notification_deliveries.labels(scheme, label).inc()
