"""Debian's headless Chromium driven by Selenium through Debian's chromedriver.

No browser is downloaded: without /usr/bin/chromium and /usr/bin/chromedriver
(``apt-get install chromium chromium-driver``; .ci/run installs them) the browser tests
are skipped, and with ``CI`` set they fail.
"""
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = os.environ.get("ZAQAR_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ZAQAR_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
# Screenshots land here (a test artifact); the good ones are copied into docs/.
ARTIFACTS = Path(os.environ.get("ZAQAR_TEST_ARTIFACTS",
                                os.path.join(tempfile.gettempdir(), "zaqar-test-artifacts")))


class Page:
    """One browser tab, with waits that poll the page itself (20 ms apart)."""

    def __init__(self, driver: webdriver.Chrome) -> None:
        self.driver = driver

    def open(self, url: str) -> None:
        self.driver.get(url)

    def js(self, script: str, *args: object) -> object:
        return self.driver.execute_script(script, *args)

    def wait_for(self, script: str, *args: object, timeout: float = 10.0,
                 what: str = "") -> float:
        """Seconds until ``script`` returns something truthy; fails after ``timeout``."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.js(script, *args):
                return time.monotonic() - start
            time.sleep(0.02)
        self.screenshot("failed")
        status = self.js("return document.getElementById('status').textContent")
        pytest.fail(f"Not within {timeout} s: {what or script}\nstatus: {status}",
                    pytrace=False)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"dashboard-{name}.png"
        self.driver.save_screenshot(str(path))
        print(f"\nscreenshot: {path}")
        return path


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(path)]
    if missing:
        message = f"{', '.join(missing)} not found (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: .ci/run installs them)", pytrace=False)
        pytest.skip(message)
    profile = tempfile.mkdtemp(prefix="zaqar-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # This machine has no network beyond loopback: no background connections, no
    # component updates, no sync.
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1100,900",
                     f"--user-data-dir={profile}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: webdriver.Chrome) -> Iterator[Page]:
    yield Page(browser)
    # Sign out (the page closes its websocket) and leave, before the server stops.
    browser.execute_script("const out = document.getElementById('signout');"
                           "if (out && !document.getElementById('board').hidden) out.click()")
    time.sleep(0.5)
    browser.get("about:blank")
