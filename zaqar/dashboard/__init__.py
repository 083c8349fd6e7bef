"""The live dashboard: static pages shipped in the package (``static/``), served by
``zaqar-server`` at ``/dashboard`` (zaqar/transport/wsgi/dashboard.py).

The page itself holds no data: it signs in over the websocket API (``authenticate`` with a
Keystone token, or a project id with authentication off), lists the project's queues,
subscribes to each (``subscription_create`` push) and keeps one table per queue, one row
per resource with its latest state. See docs/dashboard.md.
"""
from importlib import resources

# Every file served, by name, with its media type: nothing else under static/ is reachable.
STATIC_FILES: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}


def read(name: str) -> bytes:
    """The content of one of :data:`STATIC_FILES`. Raises KeyError for another name."""
    if name not in STATIC_FILES:
        raise KeyError(name)
    return resources.files(__package__).joinpath("static", name).read_bytes()
