"""The v2 route table, derived from the action registry (zaqar/api/registry.py): the
actions the server offers (admin ones only in admin mode, pools and flavors only with
pooling as well).

Path fields keep their names (``queue_name``, ``message_id``...). Query parameters pass
through under the action's names (``ids`` becomes ``message_ids``). A JSON request body
is either merged into the parameters or handed over whole under one name.
"""
from collections.abc import Mapping
from dataclasses import dataclass

from zaqar.api.registry import Endpoint, served


@dataclass(frozen=True)
class Route:
    """What one method of one path calls: the default action, and the actions chosen
    instead when the query names a parameter (``ids`` on GET .../messages)."""

    action: str
    endpoint: Endpoint
    selected: tuple[tuple[str, str, Endpoint], ...] = ()  # (query parameter, action, ...)

    def choose(self, query: Mapping[str, object]) -> tuple[str, Endpoint]:
        for parameter, action, endpoint in self.selected:
            if parameter in query:
                return action, endpoint
        return self.action, self.endpoint


def build_routes(admin_mode: bool, pooling: bool = False) -> dict[str, dict[str, Route]]:
    """``{path: {method: Route}}``. Raises ValueError when the registry gives a method of
    a path two default actions, or selecting actions and no default."""
    defaults: dict[tuple[str, str], tuple[str, Endpoint]] = {}
    selected: dict[tuple[str, str], list[tuple[str, str, Endpoint]]] = {}
    for action in served(admin_mode, pooling):
        for endpoint in action.rest:
            key = (endpoint.path, endpoint.method)
            if endpoint.selected_by is None:
                if key in defaults:
                    raise ValueError(f"Two actions serve {endpoint.method} {endpoint.path}")
                defaults[key] = (action.name, endpoint)
            else:
                selected.setdefault(key, []).append(
                    (endpoint.selected_by, action.name, endpoint))
    routes: dict[str, dict[str, Route]] = {}
    for (path, method), (name, endpoint) in defaults.items():
        routes.setdefault(path, {})[method] = Route(name, endpoint,
                                                    tuple(selected.pop((path, method), ())))
    if selected:
        raise ValueError(f"No default action for {sorted(selected)}")
    return routes
