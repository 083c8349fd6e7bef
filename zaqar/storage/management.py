"""The management store contract: storage pools, flavors and the catalog of where each
queue lives.

Pooling spreads queues over several data stores (*pools*, each named by a URI any of our
drivers takes). The catalog records, once a queue is placed, which pool holds it, so
every node finds it there afterwards. A *flavor* is a project's named set of pools: a
queue whose metadata names a flavor (``_flavor``) is placed on one of that flavor's
pools, others on a pool of no flavor. Placement is random, weighted by the pools'
weights (a weight of 0 takes no new queues).

As upstream Zaqar: a pool belongs to at most one flavor (the pool's ``flavor`` field,
set by the flavor's ``pool_list``); pools are global, flavors belong to a project.
"""
from __future__ import annotations

import abc
import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from oslo_config import cfg

from zaqar.storage.errors import DoesNotExist, StorageError


@dataclass
class Pool:
    name: str
    uri: str
    weight: int
    flavor: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Flavor:
    name: str
    project: str
    capabilities: dict[str, Any] = field(default_factory=dict)


class PoolDoesNotExist(DoesNotExist):
    def __init__(self, name: str) -> None:
        super().__init__(f"Pool {name!r} does not exist.")


class PoolAlreadyExists(StorageError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Pool {name!r} already exists.")


class PoolInUse(StorageError):
    """A pool still holds queues (catalog entries) or belongs to a flavor."""


class FlavorDoesNotExist(DoesNotExist):
    def __init__(self, name: str) -> None:
        super().__init__(f"Flavor {name!r} does not exist.")


class QueueFlavorDoesNotExist(FlavorDoesNotExist):
    """A queue's ``_flavor`` names a flavor its project does not have: bad input of the
    queue's (upstream answers 400), not a missing flavor resource."""

    def __init__(self, name: str) -> None:
        StorageError.__init__(self, f"Flavor {name!r} does not exist; a queue's _flavor "
                                    f"must name a flavor of its project.")


class QueueNotMovable(StorageError):
    """A change of ``_flavor`` would move a queue that holds messages or subscriptions to
    another pool: refused, since they cannot move with it atomically (upstream leaves
    them behind on the former pool, lost to clients)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Queue {name!r} holds messages or subscriptions: its _flavor can "
                         f"change only while it is empty (a queue moves to a pool of its "
                         f"new flavor, and what it holds cannot move with it).")


class NoPoolFound(StorageError):
    """No pool can take a new queue (none registered, all of weight 0, or none of the
    queue's flavor)."""


class PoolController(abc.ABC):
    @abc.abstractmethod
    def create(self, pool: Pool) -> None:
        """Raises PoolAlreadyExists when the name (or the URI) is taken."""

    @abc.abstractmethod
    def get(self, name: str) -> Pool:
        """Raises PoolDoesNotExist."""

    @abc.abstractmethod
    def list(self, marker: str | None = None, limit: int = 10,
             flavor: str | None = None) -> builtins.list[Pool]:
        """Pools by name after ``marker``; with ``flavor``, only that flavor's."""

    @abc.abstractmethod
    def update(self, name: str, *, uri: str | None = None, weight: int | None = None,
               flavor: str | None = None, options: dict[str, Any] | None = None) -> None:
        """Change the fields given (None leaves one as it is). Raises PoolDoesNotExist."""

    @abc.abstractmethod
    def set_flavor(self, names: Sequence[str], flavor: str | None) -> None:
        """Make ``names`` the pools of ``flavor`` (None: of no flavor)."""

    @abc.abstractmethod
    def of_flavor(self, flavor: str | None) -> builtins.list[Pool]:
        """Every pool of ``flavor`` (None: every pool of no flavor), by name: the
        candidates of a placement."""

    @abc.abstractmethod
    def delete(self, name: str) -> None:
        """Raises PoolInUse while the catalog places a queue on it; deleting a missing
        pool is no error."""


class FlavorController(abc.ABC):
    @abc.abstractmethod
    def create(self, flavor: Flavor) -> None:
        """Create or replace."""

    @abc.abstractmethod
    def get(self, name: str, project: str) -> Flavor:
        """Raises FlavorDoesNotExist."""

    @abc.abstractmethod
    def list(self, project: str, marker: str | None = None,
             limit: int = 10) -> builtins.list[Flavor]: ...

    @abc.abstractmethod
    def update(self, name: str, project: str, *,
               capabilities: dict[str, Any] | None = None) -> None:
        """Raises FlavorDoesNotExist."""

    @abc.abstractmethod
    def delete(self, name: str, project: str) -> None:
        """Also leaves the flavor's pools with no flavor; a missing one is no error."""


class CatalogController(abc.ABC):
    """Which pool holds each queue (by project and name)."""

    @abc.abstractmethod
    def lookup(self, queue: str, project: str) -> str | None:
        """The pool's name, or None for a queue not placed yet."""

    @abc.abstractmethod
    def insert(self, queue: str, project: str, pool: str) -> str:
        """Place the queue on ``pool`` unless it is already placed; returns the pool
        that holds it (the one given, or the earlier placement when another node won).
        Atomic: of concurrent inserts of one queue, from any node, one wins and all
        return its pool. Raises PoolDoesNotExist when ``pool`` is not registered."""

    @abc.abstractmethod
    def move(self, queue: str, project: str, pool: str) -> None:
        """Place an already placed (or not yet placed) queue on ``pool`` instead (a
        flavor change). Raises PoolDoesNotExist."""

    @abc.abstractmethod
    def delete(self, queue: str, project: str) -> None: ...

    @abc.abstractmethod
    def list(self, project: str, marker: str | None = None,
             limit: int | None = None) -> builtins.list[tuple[str, str]]:
        """(queue, pool) of the queues placed in the project, by queue name, those after
        ``marker`` (up to ``limit``; None: all)."""

    @abc.abstractmethod
    def on_pool(self, pool: str, marker: tuple[str, str] | None = None,
                limit: int = 100) -> builtins.list[tuple[str, str]]:
        """(project, queue) of the queues placed on the pool, in that order, those
        after ``marker``."""

    @abc.abstractmethod
    def count(self, pool: str) -> int:
        """Queues placed on the pool."""

    @abc.abstractmethod
    def project_count(self, project: str) -> int:
        """Queues placed in the project."""


class ManagementDriver(abc.ABC):
    """The management store: ``[drivers] management_store``, SQL through SQLAlchemy."""

    pools: PoolController
    flavors: FlavorController
    catalog: CatalogController

    @abc.abstractmethod
    def __init__(self, conf: cfg.ConfigOpts) -> None: ...

    @abc.abstractmethod
    def prepare(self) -> None:
        """Bring the schema up to date; safe to call again."""

    @abc.abstractmethod
    def close(self) -> None: ...
