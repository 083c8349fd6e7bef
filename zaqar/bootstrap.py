"""Composition root: configuration → storage driver → api layer → transport app."""
from wsgiref.types import WSGIApplication

from oslo_config import cfg

from zaqar.api import Api
from zaqar.storage import load_driver
from zaqar.transport.wsgi.app import create_wsgi_app


def build_api(conf: cfg.ConfigOpts) -> Api:
    """The api layer over the configured storage; with ``[DEFAULT] pooling``, over the
    pooled driver, and given its management store (pools and flavors)."""
    storage = load_driver(conf)
    return Api(storage, conf, getattr(storage, "management", None))


def build_wsgi_app(conf: cfg.ConfigOpts) -> WSGIApplication:
    return create_wsgi_app(build_api(conf), conf)
