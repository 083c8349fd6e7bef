"""Webhooks with Keystone trusts: ``trust+http`` and ``trust+https`` subscribers.

As upstream: the subscription's ``trust_id`` option names a trust from the subscribing
user to the ``[trustee]`` user; each delivery is the webhook of the URI without its
``trust+`` prefix, carrying a token of that trust in ``X-Auth-Token``, so the receiver
(Heat, Mistral...) acts as the user. Tokens are kept per trust and renewed by
keystoneauth as they near expiry. A trust Keystone refuses (expired, revoked, its user
gone) gives the message up; Keystone unreachable is retried as the retry policy says.
"""
import threading
from typing import Any

from keystoneauth1 import exceptions as keystone_errors
from keystoneauth1 import loading, session
from oslo_config import cfg

from zaqar.notification.base import Outcome
from zaqar.notification.webhook import WebhookSender
from zaqar.storage.base import Subscription

PREFIX = "trust+"
TRUSTEE = "trustee"
MAX_SESSIONS = 1000  # trusts whose session (and token) is kept


class TrustSender:
    def __init__(self, conf: cfg.ConfigOpts, webhook: WebhookSender) -> None:
        self._conf = conf
        self._webhook = webhook
        self._sessions: dict[str, session.Session] = {}
        self._lock = threading.Lock()

    def send(self, subscription: Subscription, document: dict[str, Any]) -> Outcome:
        trust_id = subscription.options.get("trust_id")
        if not isinstance(trust_id, str) or not trust_id:
            return Outcome(False, error="The subscription names no trust (trust_id).")
        url = subscription.subscriber[len(PREFIX):]
        refusal = self._webhook.refusal(url)
        if refusal is not None:
            return Outcome(False, error=refusal)
        try:
            token = self._session(trust_id).get_token()
        except (keystone_errors.ConnectFailure, keystone_errors.ConnectTimeout,
                keystone_errors.ServiceUnavailable) as error:
            return Outcome(False, retryable=True, error=f"Keystone unreachable: {error}")
        except keystone_errors.ClientException as error:
            with self._lock:
                self._sessions.pop(trust_id, None)
            return Outcome(False, error=f"No token from trust {trust_id}: {error}")
        if not token:
            return Outcome(False, error=f"No token from trust {trust_id}.")
        return self._webhook.post(url, subscription, document, {"X-Auth-Token": token})

    def _session(self, trust_id: str) -> session.Session:
        with self._lock:
            found = self._sessions.get(trust_id)
            if found is None:
                if len(self._sessions) >= MAX_SESSIONS:
                    self._sessions.pop(next(iter(self._sessions)))
                found = self._new_session(trust_id)
                self._sessions[trust_id] = found
            return found

    def _new_session(self, trust_id: str) -> session.Session:
        return trustee_session(self._conf, trust_id=trust_id)


def trustee_session(conf: cfg.ConfigOpts, **plugin_options: Any) -> session.Session:
    """A session of the [trustee] user (scoped to a trust when ``plugin_options`` name
    one). The plugin is built from the options zaqar.conf.trustee registers
    (keystoneauth's loading from conf would register them again, differing in being
    optional here)."""
    group = conf[TRUSTEE]
    loader: Any = loading.get_plugin_loader(group.auth_type or "password")
    values = {option.dest: group[option.dest] for option in loader.get_options()
              if option.dest in group and group[option.dest] is not None}
    auth = loader.load_from_options(**{**values, **plugin_options})
    verify: bool | str = not group.insecure
    if group.cafile and verify:
        verify = group.cafile
    return session.Session(auth=auth, verify=verify, timeout=group.timeout)
