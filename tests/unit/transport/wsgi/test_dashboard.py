"""The dashboard's routes: served to browsers (exempt from the JSON-only Accept check),
outside Keystone's token check, and only the files shipped."""
from collections.abc import Iterator
from pathlib import Path

import falcon.testing
import pytest

from zaqar import bootstrap, conf

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def client(tmp_path: Path, **default: object) -> falcon.testing.TestClient:
    config = conf.new_conf([], default_config_files=[], overrides={
        "DEFAULT": {"data_dir": str(tmp_path), **default}})
    return falcon.testing.TestClient(bootstrap.build_wsgi_app(config))


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[falcon.testing.TestClient]:
    yield client(tmp_path)


def test_the_page_is_html_for_a_browser_that_does_not_ask_for_json(browser) -> None:
    reply = browser.simulate_get("/dashboard/", headers=HTML)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script src="static/dashboard.js" defer></script>' in reply.content


def test_the_exemption_from_the_accept_check_is_the_dashboards_alone(browser) -> None:
    reply = browser.simulate_get("/v2/queues", headers={
        "Accept": "text/html", "Client-ID": "3381af92-2b9e-11e3-b191-71861300734c",
        "X-Project-ID": "p"})
    assert reply.status_code == 406
    assert browser.simulate_get("/dashboards", headers={"Accept": "text/html"}).status_code == 406


@pytest.mark.parametrize(("name", "media_type"), [
    ("dashboard.js", "text/javascript; charset=utf-8"),
    ("dashboard.css", "text/css; charset=utf-8"),
    ("index.html", "text/html; charset=utf-8"),
])
def test_static_files_carry_their_media_type(browser, name: str, media_type: str) -> None:
    reply = browser.simulate_get(f"/dashboard/static/{name}", headers={"Accept": "*/*"})
    assert reply.status_code == 200 and reply.headers["Content-Type"] == media_type
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", ["__init__.py", "..", "missing.js"])
def test_nothing_but_the_shipped_files_is_served(browser, name: str) -> None:
    reply = browser.simulate_get(f"/dashboard/static/{name}", headers=HTML)
    assert reply.status_code == 404
    assert reply.json["title"] == "Not found"


def test_the_bare_path_redirects_so_relative_links_resolve(browser) -> None:
    reply = browser.simulate_get("/dashboard", headers=HTML)
    assert reply.status_code == 301 and reply.headers["Location"] == "/dashboard/"


def test_config_names_the_websocket_port_and_the_sign_in(tmp_path: Path) -> None:
    config = client(tmp_path).simulate_get("/dashboard/config.json").json
    assert config == {"websocket_url": None, "websocket_port": 9000, "auth": "project"}


def test_a_configured_websocket_url_is_handed_to_the_page(tmp_path: Path) -> None:
    config = conf.new_conf([], default_config_files=[], overrides={
        "DEFAULT": {"data_dir": str(tmp_path)},
        "dashboard": {"websocket_url": "wss://zaqar.example.com/ws"}})
    app = falcon.testing.TestClient(bootstrap.build_wsgi_app(config))
    assert app.simulate_get("/dashboard/config.json").json["websocket_url"] == \
        "wss://zaqar.example.com/ws"


def test_no_websocket_transport_no_websocket_port(tmp_path: Path) -> None:
    config = conf.new_conf([], default_config_files=[], overrides={
        "DEFAULT": {"data_dir": str(tmp_path)}, "drivers": {"transport": ["wsgi"]}})
    app = falcon.testing.TestClient(bootstrap.build_wsgi_app(config))
    assert app.simulate_get("/dashboard/config.json").json["websocket_port"] is None


def test_disabled_the_dashboard_is_not_found(tmp_path: Path) -> None:
    config = conf.new_conf([], default_config_files=[], overrides={
        "DEFAULT": {"data_dir": str(tmp_path)}, "dashboard": {"enabled": False}})
    app = falcon.testing.TestClient(bootstrap.build_wsgi_app(config))
    assert app.simulate_get("/dashboard/", headers=HTML).status_code == 404


def test_behind_keystone_the_page_needs_no_token(tmp_path: Path) -> None:
    """The page signs in over the websocket API itself (the API behind the token check
    is covered by tests/functional/keystone/)."""
    app = client(tmp_path, auth_strategy="keystone")
    assert app.simulate_get("/dashboard/", headers=HTML).status_code == 200
    assert app.simulate_get("/dashboard/config.json").json["auth"] == "keystone"
