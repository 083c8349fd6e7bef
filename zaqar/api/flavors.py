"""Flavor actions, the admin API of ``[DEFAULT] pooling``: list, get, create (or
replace), update, delete a project's flavors (zaqar.storage.management).

A flavor is a project's named set of pools: its ``pool_list`` makes those pools the
flavor's (a pool belongs to one flavor at most), and a queue whose metadata names the
flavor (``_flavor``) is placed on one of them. Its ``capabilities`` are its pools'
storage's, derived as upstream Zaqar derives them (the first pool's driver), never set:
upstream takes a ``capabilities`` object in a body and ignores it, we take only an empty
one.
"""
from typing import Any

from zaqar.api import render
from zaqar.api.errors import BadRequest
from zaqar.api.pools import ManagementActions, body_error, unknown_fields
from zaqar.api.request import Response, ScopedRequest
from zaqar.storage.management import Flavor, Pool, PoolDoesNotExist
from zaqar.storage.pooling.uris import InvalidPool, driver_name

FIELDS = ("pool_list", "capabilities")
# Upstream's capability names (zaqar.storage.Capabilities) of each driver's store, as
# its flavors answer them: its Redis and MongoDB drivers' own; SQL as a durable FIFO
# store with claims and at-least-once delivery.
CAPABILITIES: dict[str, list[str]] = {
    "sqlalchemy": ["FIFO", "CLAIMS", "DURABILITY", "AOD"],
    "redis": ["FIFO", "CLAIMS", "AOD", "HIGH_THROUGHPUT"],
    "mongodb": ["FIFO", "CLAIMS", "DURABILITY", "AOD", "HIGH_THROUGHPUT"],
}


def flavors_href(name: str | None = None) -> str:
    return f"{render.V2}/flavors" if name is None else f"{render.V2}/flavors/{name}"


class FlavorActions(ManagementActions):
    def flavor_list(self, req: ScopedRequest) -> Response:
        """The project's flavors by name after ``marker``: ``pool_list`` when the flavor
        has pools, ``capabilities`` when detailed. The ``next`` link names the request's
        marker and limit, the new marker, then ``detailed`` (upstream's order)."""
        v = self.validate
        limit = self.listing_limit(req.params, self.conf.transport.max_flavors_per_page)
        marker = v.marker(req.params)
        detailed = v.flag(req.params, "detailed")
        flavors = self.management.flavors.list(req.project, marker=marker, limit=limit)
        entries = []
        for flavor in flavors:
            entry: dict[str, Any] = {"name": flavor.name, "href": flavors_href(flavor.name)}
            pools = self.management.pools.of_flavor(flavor.name)
            if pools:
                entry["pool_list"] = [pool.name for pool in pools]
            if detailed:
                entry["capabilities"] = capabilities(pools)
            entries.append(entry)
        links: list[dict[str, str]] = []
        if flavors:
            query: dict[str, Any] = {}
            if marker is not None:
                query["marker"] = marker
            if req.params.get("limit") is not None:
                query["limit"] = limit
            query["marker"] = flavors[-1].name
            if req.params.get("detailed") not in (None, ""):
                query["detailed"] = detailed
            links = render.next_link(flavors_href(), query)
        return Response(200, {"links": links, "flavors": entries})

    def flavor_get(self, req: ScopedRequest) -> Response:
        name = self._name(req)
        self.management.flavors.get(name, req.project)
        return Response(200, self._document(name))

    def flavor_create(self, req: ScopedRequest) -> Response:
        """201, whether the flavor is new or replaced: its pools become exactly
        ``pool_list`` (each must exist)."""
        name = self._name(req)
        pool_list = self._pool_list(req.params, "create")
        self._check_pools(name, pool_list, "create")
        self.management.flavors.create(Flavor(name=name, project=req.project))
        self.management.pools.set_flavor(pool_list, name)
        return Response(201, headers={"Location": flavors_href(name)})

    def flavor_update(self, req: ScopedRequest) -> Response:
        """Make ``pool_list`` the flavor's pools (each must exist); answers the flavor."""
        name = self._name(req)
        if "pool_list" not in req.params:
            raise body_error("`pool_list` needs to be specified")
        pool_list = self._pool_list(req.params, "update")
        self.management.flavors.get(name, req.project)
        self._check_pools(name, pool_list, "update")
        self.management.pools.set_flavor(pool_list, name)
        return Response(200, self._document(name))

    def flavor_delete(self, req: ScopedRequest) -> Response:
        """204, also for a flavor that does not exist; its pools are left of no flavor."""
        self.management.flavors.delete(self._name(req), req.project)
        return Response(204)

    # -- parts -------------------------------------------------------------------------

    def _name(self, req: ScopedRequest) -> str:
        return self.validate.resource_name(req.params.get("flavor_name"), "flavor_name")

    def _pool_list(self, params: dict[str, Any], verb: str) -> list[str]:
        """The body's pool names checked: a non-empty list of names, beside at most an
        empty ``capabilities``. Raises BadRequest."""
        unknown_fields(params, "flavor_name", FIELDS)
        if "pool_list" not in params:
            raise body_error("pool_list is required: the names of the flavor's pools.")
        pool_list = params["pool_list"]
        if not isinstance(pool_list, list):
            raise body_error("pool_list must be a list of pool names.")
        if not pool_list:
            raise BadRequest("pool_list must name at least one pool.", f"Unable to {verb}")
        capabilities = params.get("capabilities", {})
        if not isinstance(capabilities, dict):
            raise body_error("capabilities must be a JSON object.")
        if capabilities:
            raise body_error("capabilities cannot be set: a flavor's capabilities are its "
                             "pools' storage's (see GET); send none or {}.")
        return [self.validate.resource_name(pool, "pool_list item") for pool in pool_list]

    def _check_pools(self, name: str, pool_list: list[str], verb: str) -> None:
        """Raises BadRequest naming the first pool of ``pool_list`` that does not exist."""
        for pool in pool_list:
            try:
                self.management.pools.get(pool)
            except PoolDoesNotExist as error:
                raise BadRequest(f"Flavor {name!r} could not be {verb}d: {error}",
                                 f"Unable to {verb}") from None

    def _document(self, name: str) -> dict[str, Any]:
        """Upstream's flavor document: name, capabilities, pool_list, href."""
        pools = self.management.pools.of_flavor(name)
        return {"name": name, "capabilities": capabilities(pools),
                "pool_list": [pool.name for pool in pools], "href": flavors_href(name)}


def capabilities(pools: list[Pool]) -> list[str]:
    """The capability names of a flavor's pools: its first pool's store's ([] without
    pools)."""
    if not pools:
        return []
    try:
        return list(CAPABILITIES[driver_name(pools[0].uri)])
    except InvalidPool:  # registered pools were checked; a stored one may predate that
        return []
