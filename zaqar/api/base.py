"""What every group of actions shares: the storage driver, the validator, the config."""
from oslo_config import cfg

from zaqar.api.validation import Validator
from zaqar.storage.base import DataDriver


class Actions:
    def __init__(self, storage: DataDriver, validate: Validator, conf: cfg.ConfigOpts) -> None:
        self.storage = storage
        self.validate = validate
        self.conf = conf
        self.limits = conf.transport
