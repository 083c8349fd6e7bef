"""Webhooks: ``http`` and ``https`` subscribers get each notification POSTed as JSON.

As upstream: the body is the notification document, or the subscription's
``post_data`` option with ``"$zaqar_message$"`` replaced by it; headers are
``Content-Type: application/json`` and the ``post_headers`` option. Ours: the URL must
pass ``[notification] allowed_destinations`` first; redirects are not followed (one could
lead anywhere); proxies from the environment are not used; a 2xx answer is delivered,
5xx, 408, 429 and network failures are retried, any other answer is given up.

requests (not httpx): already a dependency (keystoneauth1 needs it), synchronous like
the worker threads that call it, with separate connect and read timeouts.
"""
import json
import threading
from typing import Any

import requests
from oslo_config import cfg

from zaqar.notification.base import DELIVERED, Outcome
from zaqar.notification.destinations import DestinationPolicy
from zaqar.storage.base import Subscription

PLACEHOLDER = '"$zaqar_message$"'
_RETRIED_STATUSES = (408, 429)


class WebhookSender:
    def __init__(self, conf: cfg.ConfigOpts, destinations: DestinationPolicy) -> None:
        group = conf.notification
        self._timeout = (group.webhook_connect_timeout, group.webhook_timeout)
        self._destinations = destinations
        self._local = threading.local()  # a session (connection pool) per thread

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxy, netrc or CA bundle from the environment
            self._local.session = session
        return session

    def send(self, subscription: Subscription, document: dict[str, Any]) -> Outcome:
        return self.post(subscription.subscriber, subscription, document, {})

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be delivered to ([notification] allowed_destinations)."""
        return self._destinations.refusal(url)

    def post(self, url: str, subscription: Subscription, document: dict[str, Any],
             extra_headers: dict[str, str]) -> Outcome:
        refusal = self._destinations.refusal(url)
        if refusal is not None:
            return Outcome(False, error=refusal)
        headers = {"Content-Type": "application/json"}
        post_headers = subscription.options.get("post_headers")
        if isinstance(post_headers, dict):
            headers.update({str(key): str(value) for key, value in post_headers.items()})
        headers.update(extra_headers)
        data = json.dumps(document)
        template = subscription.options.get("post_data")
        if isinstance(template, str):
            data = template.replace(PLACEHOLDER, data)
        try:
            response = self._session().post(url, data=data.encode(), headers=headers,
                                            timeout=self._timeout, allow_redirects=False)
            response.close()
        except requests.RequestException as error:
            return Outcome(False, retryable=True, error=f"{type(error).__name__}: {error}")
        status = response.status_code
        if 200 <= status < 300:
            return DELIVERED
        return Outcome(False, retryable=status >= 500 or status in _RETRIED_STATUSES,
                       error=f"The subscriber answered HTTP {status}.")
