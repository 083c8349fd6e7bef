"""The storage contract (:mod:`zaqar.storage.base`) and its drivers, loaded by name."""
from importlib.metadata import entry_points

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
    name = conf.drivers.message_store
    found = entry_points(group=_NAMESPACE)
    for entry in found:
        if entry.name == name:
            loaded: type[DataDriver] = entry.load()
            return loaded
    known = ", ".join(sorted(e.name for e in found)) or "none (is the package installed?)"
    raise RuntimeError(f"Unknown [drivers] message_store {name!r}; known drivers: {known}.")


def load_management_driver(conf: cfg.ConfigOpts) -> ManagementDriver:
    """Instantiate the management store named by ``[drivers] management_store``.

    Raises RuntimeError naming the known drivers when the name is unknown.
    """
    return management_driver_class(conf)(conf)


def management_driver_class(conf: cfg.ConfigOpts) -> type[ManagementDriver]:
    """The class of the management store named by ``[drivers] management_store``.

    Raises RuntimeError naming the known drivers when the name is unknown.
    """
    name = conf.drivers.management_store
    found = entry_points(group=_MANAGEMENT_NAMESPACE)
    for entry in found:
        if entry.name == name:
            loaded: type[ManagementDriver] = entry.load()
            return loaded
    known = ", ".join(sorted(e.name for e in found)) or "none (is the package installed?)"
    raise RuntimeError(f"Unknown [drivers] management_store {name!r}; known drivers: {known}.")
