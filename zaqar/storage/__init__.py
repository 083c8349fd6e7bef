"""The storage contract (:mod:`zaqar.storage.base`) and its drivers, loaded by name."""
from importlib.metadata import entry_points
from typing import Any

from oslo_config import cfg

from zaqar.storage.base import DataDriver
from zaqar.storage.management import ManagementDriver

_NAMESPACE = "zaqar.storage.message_store"
_MANAGEMENT_NAMESPACE = "zaqar.storage.management_store"


def load_driver(conf: cfg.ConfigOpts) -> DataDriver:
    """Instantiate the driver named by ``[drivers] message_store``, or with ``[DEFAULT]
    pooling`` the pooled driver (zaqar.storage.pooling) over the management store's
    pools, whose ``management`` attribute is that store.

    Raises RuntimeError naming the known drivers when the name is unknown.
    """
    if conf.pooling:
        from zaqar.storage.pooling import PooledDriver
        return PooledDriver(conf)
    driver: DataDriver = driver_class(conf)(conf)
    return driver


def driver_class(conf: cfg.ConfigOpts) -> type[DataDriver]:
    """The class of the driver named by ``[drivers] message_store``, imported (a process
    that forks servers imports it once for all of them).

    Raises RuntimeError naming the known drivers when the name is unknown.
    """
    loaded: type[DataDriver] = _entry_point(_NAMESPACE, "message_store", conf)
    return loaded


def load_management_driver(conf: cfg.ConfigOpts) -> ManagementDriver:
    """Instantiate the management store named by ``[drivers] management_store``.

    Raises RuntimeError naming the known drivers when the name is unknown.
    """
    return management_driver_class(conf)(conf)


def management_driver_class(conf: cfg.ConfigOpts) -> type[ManagementDriver]:
    """The class of the management store named by ``[drivers] management_store``.

    Raises RuntimeError naming the known drivers when the name is unknown.
    """
    loaded: type[ManagementDriver] = _entry_point(_MANAGEMENT_NAMESPACE, "management_store",
                                                  conf)
    return loaded


def _entry_point(group: str, option: str, conf: cfg.ConfigOpts) -> Any:
    """The object registered in entry point ``group`` under ``[drivers] <option>``."""
    name = conf.drivers[option]
    found = entry_points(group=group)
    for entry in found:
        if entry.name == name:
            return entry.load()
    known = ", ".join(sorted(e.name for e in found)) or "none (is the package installed?)"
    raise RuntimeError(f"Unknown [drivers] {option} {name!r}; known drivers: {known}.")
