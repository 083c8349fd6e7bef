"""What every group of actions shares: the storage driver, the validator, the config,
the queue metadata cache."""
from oslo_config import cfg

from zaqar.api.metadata_cache import QueueMetadataCache
from zaqar.api.validation import Validator
from zaqar.storage.base import DataDriver


class Actions:
    def __init__(self, storage: DataDriver, validate: Validator, conf: cfg.ConfigOpts,
                 metadata_cache: QueueMetadataCache) -> None:
        self.storage = storage
        self.validate = validate
        self.conf = conf
        self.limits = conf.transport
        self.metadata_cache = metadata_cache
