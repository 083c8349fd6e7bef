"""The Keystone trust of a ``trust+`` subscriber, checked or created on subscribe.

Without ``options.trust_id`` the trust is created, as upstream does: from the calling
user, in the project of their token, to the service's ``[trustee]`` user, with
impersonation and the roles of the caller's token, ending with the subscription (its
ttl from now). It is created with the caller's own token (Keystone lets only the trustor
create a trust), at the identity endpoint the ``[trustee]`` options name. Deleting the
subscription leaves the trust to expire with it.

A ``trust_id`` the caller names is checked (ours; upstream takes any): it must be a
trust from the caller to the trustee user, or a member of a project who read another
user's ``trust_id`` in a subscription document could have webhooks act as that user.
"""
import datetime
import threading
from typing import Any

from keystoneauth1 import exceptions as keystone_errors
from keystoneauth1 import plugin, session
from oslo_config import cfg

from zaqar.auth.credentials import Credentials
from zaqar.notification.trust import trustee_session

_IDENTITY_V3 = {"interface": plugin.AUTH_INTERFACE, "version": (3, 0)}


class TrustRefused(Exception):
    """The trust was not created, or is not the caller's to use. ``refused``: Keystone
    or the check answered no (the caller's token, roles or trust do not allow it);
    otherwise Keystone could not be asked or the ``[trustee]`` user found."""

    def __init__(self, reason: str, refused: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.refused = refused


class TrustIssuer:
    """Creates and checks trusts to the ``[trustee]`` user, with the caller's token;
    the trustee's user id is looked up once."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._conf = conf
        self._lock = threading.Lock()
        self._session: session.Session | None = None
        self._trustee_id: str | None = None

    def create(self, caller: Credentials, expires_at: float | None) -> str:
        """The id of a new trust from ``caller`` (a validated token with its user,
        project and roles) to the trustee user, ending at ``expires_at`` (a Unix time;
        None: never). Blocks on Keystone. Raises TrustRefused."""
        trustee_id = self._trustee()[0]
        trust: dict[str, object] = {
            "trustor_user_id": caller.user_id, "trustee_user_id": trustee_id,
            "project_id": caller.project_id, "impersonation": True,
            "roles": [{"name": name} for name in sorted(caller.roles)]}
        if expires_at is not None:
            trust["expires_at"] = datetime.datetime.fromtimestamp(
                expires_at, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        found = self._call(caller, "POST", "/OS-TRUST/trusts", {"trust": trust})
        if not isinstance(found.get("id"), str) or not found["id"]:
            raise TrustRefused("Keystone answered no trust id.", False)
        return str(found["id"])

    def check(self, caller: Credentials, trust_id: str) -> None:
        """Raises TrustRefused unless ``trust_id`` is a trust from ``caller`` to the
        trustee user (read with the caller's token). Blocks on Keystone."""
        trustee_id = self._trustee()[0]
        found = self._call(caller, "GET", f"/OS-TRUST/trusts/{trust_id}", None)
        if (found.get("trustor_user_id") != caller.user_id
                or found.get("trustee_user_id") != trustee_id):
            raise TrustRefused(f"Trust {trust_id} is not from you to the service's "
                               "trustee user.", True)

    def _call(self, caller: Credentials, method: str, path: str,
              document: dict[str, Any] | None) -> dict[str, Any]:
        """The ``trust`` of Keystone's answer to the caller's request."""
        identity = self._trustee()[1]
        try:
            response = identity.request(
                path, method, json=document, authenticated=False,
                headers={"X-Auth-Token": caller.token or ""}, endpoint_filter=_IDENTITY_V3)
        except keystone_errors.HttpError as error:
            refused = 400 <= (error.http_status or 500) < 500
            raise TrustRefused(f"Keystone answered {error.http_status}: {error.message}",
                               refused) from None
        except keystone_errors.ClientException as error:
            raise TrustRefused(f"Keystone unreachable: {error}", False) from None
        found = response.json().get("trust")
        return found if isinstance(found, dict) else {}

    def _trustee(self) -> tuple[str, session.Session]:
        """The trustee user's id and a session of it (authenticated once, to learn the
        id; the identity endpoint is its ``auth_url``)."""
        with self._lock:
            if self._session is None or self._trustee_id is None:
                try:
                    found = trustee_session(self._conf)
                    user_id = found.get_user_id()
                except keystone_errors.ClientException as error:
                    raise TrustRefused("The [trustee] user could not authenticate: "
                                       f"{error}", False) from None
                if not user_id:
                    raise TrustRefused("The [trustee] user has no id.", False)
                self._session, self._trustee_id = found, user_id
            return self._trustee_id, self._session
