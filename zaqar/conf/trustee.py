"""Options of the ``[trustee]`` group (upstream's): the Keystone user that ``trust+``
subscribers' trusts delegate to, whose trust-scoped tokens webhooks then carry.

keystoneauth's own options (``auth_type``, ``auth_url``, ``username``, ``password``,
``user_domain_name``...), with the password plugin's listed; none is required until a
``trust+`` subscriber is delivered to. Set no project: the trust gives the scope.
"""
from keystoneauth1 import loading
from oslo_config import cfg


def _options() -> list[cfg.Opt]:
    common = loading.get_auth_common_conf_options()
    names = {opt.dest for opt in common}
    plugin = [opt for opt in loading.get_auth_plugin_conf_options("password")
              if opt.dest not in names]
    chosen = [*common, *plugin, *loading.get_session_conf_options()]
    for opt in chosen:  # fresh copies: keystoneauth's own stay as they are
        opt.required = False
    return chosen


GROUP = "trustee"
OPTS = _options()
