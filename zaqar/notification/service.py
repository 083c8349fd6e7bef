"""The notifier process: its senders, by subscriber scheme, and its life until SIGTERM."""
import logging
import os
import signal
import threading
from typing import Any

from oslo_config import cfg

from zaqar import metrics
from zaqar.notification.base import Outcome, Sender
from zaqar.notification.destinations import DestinationPolicy
from zaqar.notification.mailto import MailSender
from zaqar.notification.notifier import Notifier
from zaqar.notification.trust import TrustSender
from zaqar.notification.webhook import WebhookSender
from zaqar.storage import load_driver
from zaqar.storage.base import Subscription

LOG = logging.getLogger(__name__)


def senders(conf: cfg.ConfigOpts) -> dict[str, Sender]:
    """Raises ValueError for a malformed ``[notification] allowed_destinations``."""
    webhook = WebhookSender(conf, DestinationPolicy(conf.notification.allowed_destinations))
    trusted = TrustSender(conf, webhook)
    chosen: dict[str, Sender] = {"http": webhook, "https": webhook, "mailto": MailSender(conf),
                                 "trust+http": trusted, "trust+https": trusted}
    return {scheme: _Counted(scheme, sender) for scheme, sender in chosen.items()}


class _Counted:
    """A sender whose attempts are counted (zaqar_notification_deliveries)."""

    def __init__(self, scheme: str, sender: Sender) -> None:
        self._scheme = scheme
        self._sender = sender

    def send(self, subscription: Subscription, document: dict[str, Any]) -> Outcome:
        outcome = self._sender.send(subscription, document)
        try:
            metrics.count_delivery(self._scheme, outcome)
        except Exception:  # a counting failure must not turn a delivery into a retry
            LOG.exception("Counting a delivery to %s failed", subscription.subscriber)
        return outcome


def _stop_when_orphaned(notifier: Notifier) -> None:
    """Stop once the zaqar-server that started this process is gone (killed without a
    chance to stop it): the server started again would run a second notifier."""
    parent = os.getppid()
    while os.getppid() == parent:
        threading.Event().wait(1.0)
    LOG.warning("zaqar-server (process %d) is gone; the notifier stops", parent)
    notifier.stop()


def serve(conf: cfg.ConfigOpts) -> None:
    """Deliver until SIGTERM or SIGINT; returns once in-flight deliveries are done."""
    storage = load_driver(conf)
    # Made now, before the notifier's threads count their first deliveries at once.
    metrics.metrics()
    notifier = Notifier(conf, storage, senders(conf))

    def _stop(*_: Any) -> None:
        notifier.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)
    threading.Thread(target=_stop_when_orphaned, args=(notifier,), name="zaqar-parent-watch",
                     daemon=True).start()
    if not conf.notification.allowed_destinations:
        LOG.warning("[notification] allowed_destinations is empty: no webhook will be "
                    "sent (each refusal is logged and recorded on its subscription).")
    LOG.info("Delivering notifications (%d threads)", conf.notification.max_notifier_workers)
    try:
        notifier.run()
    finally:
        storage.close()
