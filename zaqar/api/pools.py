"""Pool actions, the admin API of ``[DEFAULT] pooling``: list, get, create (or replace),
update, delete storage pools (zaqar.storage.management).

Pools are the service's, not a project's. The documents, statuses and checks are
upstream Zaqar's (its REST schemas ``common/api/schemas/pools.py``): a pool has a
``weight`` (0 to 2^32-1; 0 takes no new queues), a ``uri`` (at most 255 characters) that
must answer before it is registered, an optional ``flavor`` and driver ``options``;
nothing else may be sent.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from oslo_config import cfg

from zaqar.api import render
from zaqar.api.errors import BadRequest, Conflict, ServiceUnavailable
from zaqar.api.request import Response, ScopedRequest
from zaqar.api.validation import Validator
from zaqar.storage.base import DataDriver
from zaqar.storage.management import (
    ManagementDriver,
    Pool,
    PoolAlreadyExists,
    PoolDoesNotExist,
)
from zaqar.storage.pooling import PooledDriver, check_pool_uri

FIELDS = ("weight", "uri", "flavor", "options")
MAX_WEIGHT = 2 ** 32 - 1
MAX_URI = 255
BODY_TITLE = "Invalid request body"  # upstream's title of a refused pool or flavor body


def pools_href(name: str | None = None) -> str:
    return f"{render.V2}/pools" if name is None else f"{render.V2}/pools/{name}"


class ManagementActions:
    """What the pool and flavor actions share: the storage driver (the pooled one with
    pooling), the management store, checks, config."""

    def __init__(self, storage: DataDriver, management: ManagementDriver | None,
                 validate: Validator, conf: cfg.ConfigOpts) -> None:
        self.storage = storage
        self._management = management
        self.validate = validate
        self.conf = conf

    @property
    def management(self) -> ManagementDriver:
        """Raises ServiceUnavailable when the server runs without a management store
        (the actions are then not served: zaqar.api.registry.served)."""
        if self._management is None:
            raise ServiceUnavailable("Pools and flavors need [DEFAULT] pooling and a "
                                     "management store.")
        return self._management

    def listing_limit(self, params: dict[str, Any], most: int) -> int:
        return self.validate.query_int(params, "limit", 10, 1, most)


def body_error(description: str) -> BadRequest:
    return BadRequest(description, BODY_TITLE)


def unknown_fields(params: dict[str, Any], path_field: str, known: tuple[str, ...]) -> None:
    """Raises BadRequest naming the first field of the body upstream's schema refuses."""
    for key in params:
        if key != path_field and key not in known:
            raise body_error(f"Unknown field {key!r}; a body may hold: {', '.join(known)}.")


def check_weight(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_WEIGHT:
        raise body_error(f"weight must be an integer from 0 to {MAX_WEIGHT}.")
    return value


def check_uri(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_URI:
        raise body_error(f"uri must be a string of at most {MAX_URI} characters.")
    return value


def check_options(value: Any) -> dict[str, Any]:
    """The pool driver's options: an object of strings, numbers and booleans (every
    driver option is one); which names and values the driver takes, check_pool_uri says."""
    if not isinstance(value, dict):
        raise body_error("options must be a JSON object (the pool driver's options).")
    for name, option in value.items():
        if not isinstance(option, str | int | float):  # bool is an int
            raise body_error(f"Pool option {name!r} must be a string, a number or a "
                             "boolean.")
    return value


def check_flavor(validate: Validator, value: Any) -> str | None:
    """A flavor name, or None for "" (no flavor, as upstream clears it)."""
    if value == "":
        return None
    if not isinstance(value, str):
        raise body_error("flavor must be a string: a flavor name, or \"\" for none.")
    return validate.resource_name(value, "flavor")


def document(pool: Pool, detailed: bool) -> dict[str, Any]:
    """Upstream's pool document: ``options`` only when detailed, ``href`` last."""
    doc: dict[str, Any] = {"name": pool.name, "uri": pool.uri, "weight": pool.weight,
                           "flavor": pool.flavor}
    if detailed:
        doc["options"] = pool.options
    doc["href"] = pools_href(pool.name)
    return doc


class PoolActions(ManagementActions):
    def pool_list(self, req: ScopedRequest) -> Response:
        """Pools by name after ``marker``; the ``next`` link names the request's own
        parameters first, then the new marker (upstream's order)."""
        v = self.validate
        limit = self.listing_limit(req.params, self.conf.transport.max_pools_per_page)
        marker = v.marker(req.params)
        detailed = v.flag(req.params, "detailed")
        pools = self.management.pools.list(marker=marker, limit=limit)
        body: dict[str, Any] = {"links": []}
        if pools:
            query = {key: req.params[key] for key in ("marker", "limit", "detailed")
                     if req.params.get(key) not in (None, "")}
            query["marker"] = pools[-1].name
            body["links"] = render.next_link(pools_href(), {
                key: _echo(key, value, limit, detailed) for key, value in query.items()})
        body["pools"] = [document(pool, detailed) for pool in pools]
        return Response(200, body)

    def pool_get(self, req: ScopedRequest) -> Response:
        name = self.validate.resource_name(req.params.get("pool_name"), "pool_name")
        detailed = self.validate.flag(req.params, "detailed")
        return Response(200, document(self.management.pools.get(name), detailed))

    def pool_create(self, req: ScopedRequest) -> Response:
        """201 whether the pool is new or replaced (upstream's PUT replaces: the weight,
        URI and options given, the flavor only when given). A URI another pool has is
        409; one that does not answer, 400."""
        name = self.validate.resource_name(req.params.get("pool_name"), "pool_name")
        params = req.params
        unknown_fields(params, "pool_name", FIELDS)
        for required in ("uri", "weight"):
            if required not in params:
                raise body_error(f"{required} is required.")
        new = Pool(name=name, uri=check_uri(params["uri"]),
                   weight=check_weight(params["weight"]),
                   flavor=check_flavor(self.validate, params["flavor"]) if "flavor" in params
                   else None,
                   options=check_options(params["options"]) if "options" in params else {})
        self._check_connectable(new.uri, new.options)
        pools = self.management.pools
        try:
            pools.get(name)
        except PoolDoesNotExist:
            with _uri_taken(new.uri):
                pools.create(new)
        else:
            with _uri_taken(new.uri):
                pools.update(name, uri=new.uri, weight=new.weight, options=new.options)
            if "flavor" in params:
                self._set_flavor(name, new.flavor)
        return Response(201, headers={"Location": pools_href(name)})

    def pool_update(self, req: ScopedRequest) -> Response:
        """Change the fields given (at least one of weight, uri, flavor, options); a new
        URI or new options must answer. Answers the pool."""
        name = self.validate.resource_name(req.params.get("pool_name"), "pool_name")
        params = req.params
        if not any(key in params for key in FIELDS):
            raise body_error("One of `uri`, `weight`, `flavor`, or `options` needs to be "
                             "specified")
        unknown_fields(params, "pool_name", FIELDS)
        new_weight = check_weight(params["weight"]) if "weight" in params else None
        new_uri = check_uri(params["uri"]) if "uri" in params else None
        new_options = check_options(params["options"]) if "options" in params else None
        new_flavor = (check_flavor(self.validate, params["flavor"]) if "flavor" in params
                      else None)
        pools = self.management.pools
        current = pools.get(name)
        if new_uri is not None or new_options is not None:
            self._check_connectable(new_uri if new_uri is not None else current.uri,
                                    new_options if new_options is not None
                                    else current.options)
        with _uri_taken(new_uri or current.uri):
            pools.update(name, uri=new_uri, weight=new_weight, options=new_options)
        if "flavor" in params:
            self._set_flavor(name, new_flavor)
        return Response(200, document(pools.get(name), detailed=False))

    def pool_delete(self, req: ScopedRequest) -> Response:
        """204, also for a pool that does not exist; 403 while queues live on it. The
        placements of its deleted queues (kept so that a queue made again never reuses
        a message id) are forgotten first."""
        name = self.validate.resource_name(req.params.get("pool_name"), "pool_name")
        if isinstance(self.storage, PooledDriver):
            try:
                self.storage.release_pool(name)
            except PoolDoesNotExist:
                return Response(204)
        self.management.pools.delete(name)
        return Response(204)

    def _set_flavor(self, name: str, new_flavor: str | None) -> None:
        if new_flavor is None:
            self.management.pools.set_flavor([name], None)
        else:
            self.management.pools.update(name, flavor=new_flavor)

    def _check_connectable(self, pool_uri: str, pool_options: dict[str, Any]) -> None:
        reason = check_pool_uri(self.conf, pool_uri, pool_options)
        if reason is not None:
            raise body_error(reason)


@contextmanager
def _uri_taken(pool_uri: str) -> Iterator[None]:
    """The store refuses a second pool of one URI: 409, worded as upstream's."""
    try:
        yield
    except PoolAlreadyExists:
        raise Conflict(f"The database URI is in use by another pool: {pool_uri}",
                       "Resource conflict") from None


def _echo(key: str, value: Any, limit: int, detailed: bool) -> Any:
    """A listing parameter as the ``next`` link carries it (checked values, not text)."""
    if key == "limit":
        return limit
    if key == "detailed":
        return detailed
    return value
