"""The storage contract (:mod:`zaqar.storage.base`) and its drivers, loaded by name."""
from importlib.metadata import entry_points

from oslo_config import cfg

from zaqar.storage.base import DataDriver

_NAMESPACE = "zaqar.storage.message_store"


def load_driver(conf: cfg.ConfigOpts) -> DataDriver:
    """Instantiate the driver named by ``[drivers] message_store``.

    Raises RuntimeError naming the known drivers when the name is unknown.
    """
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
