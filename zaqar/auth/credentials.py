"""The identity behind a request, as an authentication step established it."""
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Credentials:
    """A validated Keystone token: whose it is, its project and roles, when it expires.

    Built only from what the identity service vouched for (never from client headers).
    ``project_id`` is None for a token not scoped to a project; ``expires_at`` is a Unix
    time, None when unknown. ``token`` is the token itself, for what acts as the caller
    in Keystone (creating a ``trust+`` subscriber's trust); never shown in a repr.
    """

    user_id: str | None
    project_id: str | None
    roles: frozenset[str] = field(default_factory=frozenset)
    expires_at: float | None = None
    token: str | None = field(default=None, repr=False, compare=False)

    def to_policy(self) -> dict[str, Any]:
        """The credentials document oslo.policy checks rules against."""
        return {"user_id": self.user_id, "project_id": self.project_id,
                "roles": sorted(self.roles)}
