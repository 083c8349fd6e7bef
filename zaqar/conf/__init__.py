"""Configuration: oslo.config option definitions, one module per group.

Nothing here is global: ``new_conf`` builds a fresh ``ConfigOpts`` with every option
registered, so a test or a tool can hold several configurations at once. It also refuses
upstream options whose feature is not implemented yet when they ask for it
(:data:`NOT_IMPLEMENTED`): such a setting must fail loudly, not be ignored.
"""
from collections.abc import Sequence

from oslo_config import cfg

from zaqar.conf import (
    bridge,
    cors,
    dashboard,
    default,
    drivers,
    gc,
    management,
    mongodb,
    notification,
    redis,
    signed_url,
    sqlalchemy,
    transport,
    trustee,
    websocket,
    wsgi,
)

_MODULES = (default, drivers, transport, wsgi, websocket, sqlalchemy, redis, mongodb, gc,
            signed_url, cors, dashboard, bridge, notification, trustee, management)


# Upstream options kept for their names, whose feature is not implemented yet:
# (group, option, the only value accepted until then, the feature).
NOT_IMPLEMENTED: tuple[tuple[str, str, object, str], ...] = ()


class NotImplementedOption(cfg.Error):
    """An option asks for a feature that is not implemented yet."""


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
         default_config_files=None if default_config_files is None
         else list(default_config_files))
    for group, values in (overrides or {}).items():
        for name, value in values.items():
            conf.set_override(name, value, group=None if group == "DEFAULT" else group)
    refuse_not_implemented(conf)
    return conf


def refuse_not_implemented(conf: cfg.ConfigOpts) -> None:
    """Raises NotImplementedOption naming the first option of :data:`NOT_IMPLEMENTED`
    set to another value than the one accepted."""
    for group, name, accepted, feature in NOT_IMPLEMENTED:
        value = conf[name] if group == "DEFAULT" else conf[group][name]
        if value != accepted:
            raise NotImplementedOption(
                f"[{group}] {name} = {value} asks for {feature}, which is not implemented "
                f"yet (a later issue delivers pools and flavors); remove the option or "
                f"set it to {accepted}.")


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(module.GROUP, list(module.OPTS)) for module in _MODULES]
