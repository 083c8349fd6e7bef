"""``zaqar-bridge``: OpenStack notifications from the message bus into project queues.

Reads the same configuration as ``zaqar-server`` (``--config-file``, ``--config-dir``,
the usual zaqar.conf locations): the storage it posts to, and the ``[bridge]`` group
(bus URL, topics, event type filters, queue names, TTL). Runs until SIGTERM or SIGINT.
"""
import logging
import sys
from collections.abc import Sequence

from oslo_config import cfg

from zaqar import bootstrap, conf
from zaqar.bridge.endpoint import NotificationPoster
from zaqar.bridge.listener import Bridge
from zaqar.bridge.routing import RoutingError
from zaqar.cmd.children import wait_for_stop_signal

LOG = logging.getLogger("zaqar.bridge")


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    try:
        config = conf.new_conf(list(sys.argv[1:] if argv is None else argv))
    except cfg.Error as error:
        sys.exit(f"zaqar-bridge: {error}")
    api = bootstrap.build_api(config)
    api.storage.prepare()
    try:
        bridge = Bridge(config, NotificationPoster(api, config))
        bridge.start()
    except RoutingError as error:
        sys.exit(f"zaqar-bridge: {error}")
    except Exception as error:  # e.g. the bus refuses the connection: one clear line
        sys.exit(f"zaqar-bridge: could not listen on the bus: {error}")
    LOG.info("Posting notifications of topics %s (pool %s) to queues %r",
             ", ".join(config.bridge.topics), config.bridge.pool, config.bridge.queue_name)
    try:
        wait_for_stop_signal()
    finally:
        bridge.stop()
        api.storage.close()
