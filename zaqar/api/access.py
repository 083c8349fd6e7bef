"""Access control, decided once for every transport: which project a request runs in,
and whether its caller may run the action there.

Three ways in:

- authentication off (``[DEFAULT] auth_strategy`` unset): the project is the
  ``X-Project-ID`` the caller names, and nothing else is checked;
- Keystone: the project is the validated token's, a request naming another one is
  refused (403), and the action's policy rule must pass for the token's roles;
- a pre-signed URL (any mode): the signature must be genuine and unexpired and cover the
  action's method and signed path, filled with the request's queue or topic name (and
  subscription id for a topic's confirm); the project is the signed one.
"""
import threading
from collections.abc import Mapping

from oslo_config import cfg

from zaqar.api import registry
from zaqar.api.errors import Forbidden, ServiceUnavailable, Unauthorized
from zaqar.api.request import Request
from zaqar.api.validation import Validator
from zaqar.auth import secret_key, signed_url
from zaqar.auth.credentials import Credentials
from zaqar.auth.keystone import AuthenticationFailed, IdentityServiceUnavailable, TokenValidator
from zaqar.auth.policy import Policy

# Longer tokens are refused unread (fernet tokens are ~200 characters, JWS under 1 KiB).
MAX_TOKEN_LENGTH = 8192


class AccessControl:
    def __init__(self, conf: cfg.ConfigOpts, validate: Validator) -> None:
        self.keystone = conf.auth_strategy == "keystone"
        self._conf = conf
        self._validate = validate
        # Configured, or generated once into data_dir (zaqar.auth.secret_key).
        self._secret_key = secret_key.load_or_create(conf)
        # Policy applies to Keystone-authenticated callers; None: authentication is off.
        self._policy = Policy(conf) if self.keystone else None
        self._tokens: TokenValidator | None = None
        self._tokens_lock = threading.Lock()

    def project(self, action: str, req: Request) -> str:
        """The project ``req`` runs ``action`` in.

        Raises Forbidden when the caller may not, BadRequest for a malformed project.
        """
        project = self._authorize(action, req)
        return project if project is not None else self._validate.project_id(req.project)

    def _authorize(self, action: str, req: Request) -> str | None:
        """The project the caller's credentials or signature decide; None when
        authentication is off and the request carries no signature."""
        if req.signature is not None:
            return self._signed_project(action, req.signature, req.params)
        if self._policy is None:
            return None
        credentials = req.credentials
        if credentials is None:
            raise Forbidden("Authenticate with a Keystone token first.", "Not authenticated")
        project = self._token_project(credentials, req.project)
        if not self._policy.allows(registry.action(action).rule, project, credentials):
            raise Forbidden(f"Policy does not allow {action} for this token.",
                            "Not authorized")
        return project

    @staticmethod
    def _token_project(credentials: Credentials, claimed: str | None) -> str:
        if credentials.project_id is None:
            raise Forbidden("The token is not scoped to a project.", "Not authorized")
        if claimed is not None and claimed != credentials.project_id:
            raise Forbidden("X-Project-ID names another project than the token's.",
                            "Not authorized")
        return credentials.project_id

    def _signed_project(self, action: str, signature: signed_url.SignedHeaders,
                        params: Mapping[str, object]) -> str:
        grant = signed_url.verify(self._secret_key, signature)
        if grant is None:
            raise Forbidden("The URL signature is not valid or has expired.",
                            "Invalid signature")
        if not grant.allows(registry.action(action).signed, params):
            raise Forbidden("The signed URL does not allow this request.", "Not authorized")
        return self._validate.project_id(grant.project)

    def authenticate(self, token: str | None, claimed_project: str | None) -> Credentials | None:
        """Validate a token the transport received (a websocket ``authenticate``); None
        with authentication off. Blocks: it may ask Keystone.

        Raises Unauthorized (no or invalid token), Forbidden (the token is for another
        project than ``claimed_project``, or for none), ServiceUnavailable.
        """
        if self._policy is None:
            return None
        if (not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii()
                or not token.isprintable()):
            raise Unauthorized("A valid X-Auth-Token header is required.",
                               "Authentication failed")
        try:
            credentials = self.token_validator().validate(token)
        except AuthenticationFailed:
            raise Unauthorized("The token is not valid.", "Authentication failed") from None
        except IdentityServiceUnavailable:
            raise ServiceUnavailable("The identity service cannot validate tokens right "
                                     "now; try again shortly.") from None
        self._token_project(credentials, claimed_project)
        return credentials

    def token_validator(self) -> TokenValidator:
        """What validates tokens for :meth:`authenticate`, built on first use (only
        websocket processes validate tokens themselves)."""
        with self._tokens_lock:
            if self._tokens is None:
                self._tokens = TokenValidator(self._conf)
            return self._tokens
