"""The JSON home document of ``/v2/`` (``get_home_doc``), derived from the registry.

Its relation names, templates and hints are upstream Zaqar's: clients look resources up
by relation (``rel/queues``, ``rel/post_messages``...). Endpoints without a relation
(subscription confirmation, HEAD, messages by id) are not listed, as upstream. The admin
API's relations (``rel/health``; ``rel/pools``, ``rel/flavors``... with pooling) are
listed when the server serves them.
"""
import re
from collections.abc import Iterable
from typing import Any

from zaqar.api.registry import ACTIONS, Action, Endpoint, Relation

_PATH_FIELD = re.compile(r"{([a-z_]+)}")


def _template(endpoint: Endpoint, relation: Relation) -> tuple[str, dict[str, str]]:
    renamed = dict(relation.renamed)
    names = [renamed.get(name, name) for name in _PATH_FIELD.findall(endpoint.path)]
    path = _PATH_FIELD.sub(lambda match: "{" + renamed.get(match[1], match[1]) + "}",
                           endpoint.path)
    if relation.query:
        path += "{?" + ",".join(name for name, _ in relation.query) + "}"
    variables = {name: f"param/{name}" for name in names}
    variables.update((name, f"param/{param}")
                     for name, param in (*relation.query, *relation.extra_vars))
    return path, variables


def home_document(actions: Iterable[Action] = ACTIONS) -> dict[str, Any]:
    """``{"resources": {relation: {href-template, href-vars?, hints}}}`` of ``actions``
    (those a server serves: :func:`zaqar.api.registry.served`); a fixed relation has an
    ``href`` instead of the template."""
    resources: dict[str, dict[str, Any]] = {}
    for action in actions:
        for endpoint in action.rest:
            relation = endpoint.home
            if relation is None:
                continue
            entry = resources.get(relation.name)
            if entry is None:
                template, variables = _template(endpoint, relation)
                entry = {"href" if relation.fixed else "href-template": template}
                if variables:
                    entry["href-vars"] = variables
                entry["hints"] = {"allow": [], "formats": {"application/json": {}}}
                if relation.accept_post:
                    entry["hints"]["accept-post"] = ["application/json"]
                resources[relation.name] = entry
            entry["hints"]["allow"].append(endpoint.method)
    return {"resources": resources}
