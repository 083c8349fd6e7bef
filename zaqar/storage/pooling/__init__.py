"""Pooling: queues spread over several data stores (pools).

The management store (zaqar.storage.management) lists the pools and records, in its
catalog, the pool of each queue. :class:`PooledDriver` is a data driver like the others
that routes each call to the driver of its queue's pool; :func:`check_pool_uri` tells
whether a pool URI can be used, :func:`driver_for_pool` builds a pool's driver.
"""
from zaqar.storage.pooling.catalog import Catalog, choose_weighted
from zaqar.storage.pooling.driver import PooledDriver
from zaqar.storage.pooling.uris import InvalidPool, check_pool_uri, driver_for_pool, pool_conf

__all__ = ["Catalog", "InvalidPool", "PooledDriver", "check_pool_uri", "choose_weighted",
           "driver_for_pool", "pool_conf"]
