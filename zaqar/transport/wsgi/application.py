"""A module-level WSGI ``application`` for uwsgi, mod_wsgi and the like.

It reads the usual oslo.config files (``/etc/zaqar/zaqar.conf``...) at import and brings
the storage schema up to date. ``zaqar-server`` does not use this module.
"""
from zaqar import bootstrap, conf
from zaqar.transport.wsgi.app import create_wsgi_app

_conf = conf.new_conf()
_api = bootstrap.build_api(_conf)
_api.storage.prepare()
application = create_wsgi_app(_api, _conf)
