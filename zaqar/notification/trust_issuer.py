"""Creating the trust of a ``trust+`` subscriber on subscribe, as upstream does.

The trust goes from the calling user, in the project of their token, to the service's
``[trustee]`` user, with impersonation and the roles of the caller's token, and expires
with the subscription (its ttl from now). It is created with the caller's own token
(Keystone lets only the trustor create a trust), at the identity endpoint the
``[trustee]`` options name. Deleting the subscription leaves the trust to expire with it.
"""
import datetime
import threading

from keystoneauth1 import exceptions as keystone_errors
from keystoneauth1 import plugin, session
from oslo_config import cfg

from zaqar.auth.credentials import Credentials
from zaqar.notification.trust import trustee_session

_IDENTITY_V3 = {"interface": plugin.AUTH_INTERFACE, "version": (3, 0)}


class TrustNotCreated(Exception):
    """Keystone did not create the trust. ``refused``: Keystone answered no (the
    caller's token or roles do not allow it); otherwise Keystone could not be asked or
    the ``[trustee]`` user could not be found."""

    def __init__(self, reason: str, refused: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.refused = refused


class TrustIssuer:
    """Creates trusts to the ``[trustee]`` user; its user id is looked up once."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._conf = conf
        self._lock = threading.Lock()
        self._session: session.Session | None = None
        self._trustee_id: str | None = None

    def create(self, caller: Credentials, expires_at: float | None) -> str:
        """The id of a new trust from ``caller`` (a validated token with its user,
        project and roles) to the trustee user, ending at ``expires_at`` (a Unix time;
        None: never). Blocks on Keystone. Raises TrustNotCreated."""
        trustee_id, identity = self._trustee()
        trust: dict[str, object] = {
            "trustor_user_id": caller.user_id, "trustee_user_id": trustee_id,
            "project_id": caller.project_id, "impersonation": True,
            "roles": [{"name": name} for name in sorted(caller.roles)]}
        if expires_at is not None:
            trust["expires_at"] = datetime.datetime.fromtimestamp(
                expires_at, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        try:
            response = identity.post(
                "/OS-TRUST/trusts", json={"trust": trust}, authenticated=False,
                headers={"X-Auth-Token": caller.token or ""}, endpoint_filter=_IDENTITY_V3)
        except keystone_errors.HttpError as error:
            refused = 400 <= (error.http_status or 500) < 500
            raise TrustNotCreated(f"Keystone answered {error.http_status}: "
                                  f"{error.message}", refused) from None
        except keystone_errors.ClientException as error:
            raise TrustNotCreated(f"Keystone unreachable: {error}", False) from None
        trust_id = response.json().get("trust", {}).get("id")
        if not isinstance(trust_id, str) or not trust_id:
            raise TrustNotCreated("Keystone answered no trust id.", False)
        return trust_id

    def _trustee(self) -> tuple[str, session.Session]:
        """The trustee user's id and a session of it (authenticated once, to learn the
        id; the identity endpoint is its ``auth_url``)."""
        with self._lock:
            if self._session is None or self._trustee_id is None:
                try:
                    found = trustee_session(self._conf)
                    user_id = found.get_user_id()
                except keystone_errors.ClientException as error:
                    raise TrustNotCreated("The [trustee] user could not authenticate: "
                                          f"{error}", False) from None
                if not user_id:
                    raise TrustNotCreated("The [trustee] user has no id.", False)
                self._session, self._trustee_id = found, user_id
            return self._trustee_id, self._session
