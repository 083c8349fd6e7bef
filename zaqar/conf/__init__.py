"""Configuration: oslo.config option definitions, one module per group.

Nothing here is global: ``new_conf`` builds a fresh ``ConfigOpts`` with every option
registered, so a test or a tool can hold several configurations at once.
"""
from collections.abc import Sequence

from oslo_config import cfg

from zaqar.conf import (
    cors,
    default,
    drivers,
    gc,
    redis,
    signed_url,
    sqlalchemy,
    transport,
    websocket,
    wsgi,
)

_MODULES = (default, drivers, transport, wsgi, websocket, sqlalchemy, redis, gc, signed_url,
            cors)


def register_opts(conf: cfg.ConfigOpts) -> None:
    for module in _MODULES:
        conf.register_opts(module.OPTS, group=module.GROUP)


def new_conf(args: Sequence[str] = (), default_config_files: Sequence[str] | None = None,
             overrides: dict[str, dict[str, object]] | None = None) -> cfg.ConfigOpts:
    """Build a configuration: registered options, parsed ``args`` and config files.

    ``default_config_files`` None means oslo.config's usual search
    (``~/.zaqar/zaqar.conf``, ``/etc/zaqar/zaqar.conf``, ...). ``overrides`` maps a group
    name (``"DEFAULT"`` for the default group) to option values, as tests need.
    """
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(list(args), project="zaqar", prog="zaqar-server",
         default_config_files=default_config_files)
    for group, values in (overrides or {}).items():
        for name, value in values.items():
            conf.set_override(name, value, group=None if group == "DEFAULT" else group)
    return conf


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(module.GROUP, list(module.OPTS)) for module in _MODULES]
