"""``zaqar-gc``: remove expired messages, claims and subscriptions once, then exit."""
import sys
import time
from collections.abc import Sequence

from oslo_config import cfg

from zaqar import conf
from zaqar.storage import load_driver


def main(argv: Sequence[str] | None = None) -> None:
    try:
        config = conf.new_conf(sys.argv[1:] if argv is None else argv)
    except cfg.Error as error:
        sys.exit(f"zaqar-gc: {error}")
    try:
        storage = load_driver(config)  # with pooling: every pool's
    except RuntimeError as error:
        sys.exit(f"zaqar-gc: {error}")
    started = time.monotonic()
    removed = storage.collect_garbage()
    storage.close()
    print(f"zaqar-gc: removed {removed} expired rows in {time.monotonic() - started:.2f} s")
