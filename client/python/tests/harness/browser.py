"""A headless Chromium that a test drives through the provider's pages.

Debian's chromium and chromedriver, driven by Selenium with both paths
given, so that Selenium never looks for or downloads a browser. Every page
of the test provider carries ``<body data-page=KIND>``; the robot waits for
those rather than for URLs (see tests/idp/oidc/README.md).
"""

from __future__ import annotations

import os
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
#: The login name the robot signs in with; it becomes the token's `sub`.
LOGIN = "alice"
PAGE_TIMEOUT = 15.0

# Selenium Manager must never reach out: both paths are given below.
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")


class Browser:
    """One Chromium with a fresh profile, so a fresh IdP session."""

    def __init__(self, login: str = LOGIN) -> None:
        self.login = login
        self._profile = tempfile.TemporaryDirectory(prefix="podauth-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self._profile.name}")
        service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_page_load_timeout(PAGE_TIMEOUT)

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            self._profile.cleanup()

    def page(self) -> str | None:
        """The ``data-page`` of the current page, or None."""
        try:
            return self.driver.find_element(By.TAG_NAME, "body").get_attribute("data-page")
        except WebDriverException:
            return None

    def wait_for_page(self, *kinds: str, timeout: float = PAGE_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            kind = self.page()
            if kind in kinds:
                return kind
            if kind == "error":
                text = self.driver.find_element(By.ID, "error").text
                raise AssertionError(f"the provider showed an error page: {text}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"waited {timeout:.0f} s for page {kinds}, still on {kind!r} "
                    f"at {self.driver.current_url}"
                )
            time.sleep(0.05)

    def _leave(self, kind: str) -> None:
        deadline = time.monotonic() + PAGE_TIMEOUT
        while self.page() == kind and time.monotonic() < deadline:
            time.sleep(0.05)

    def leave_element(self, element_id: str) -> None:
        deadline = time.monotonic() + PAGE_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if not self.driver.find_elements(By.ID, element_id):
                    return
            except WebDriverException:
                return
            time.sleep(0.05)

    def fill_login(self) -> None:
        self.driver.find_element(By.ID, "login").send_keys(self.login)
        self.driver.find_element(By.ID, "password").send_keys("any password")
        self.driver.find_element(By.ID, "login-submit").click()

    def approve_device(self, verification_uri_complete: str) -> None:
        """Confirms a device code, signing in when the session has none."""
        self.driver.get(verification_uri_complete)
        self.wait_for_page("device-confirm")
        self.driver.find_element(By.ID, "device-confirm").click()
        if self.wait_for_page("login", "device-success") == "login":
            self.fill_login()
            self.wait_for_page("device-success")

    def sign_in(self, authorize_url: str, callback_prefix: str) -> None:
        """Follows an authorize URL (and the daemon's chain) until the
        browser leaves the provider for the daemon's last page."""
        self.driver.get(authorize_url)
        self._until_at_callback(callback_prefix, allow_login=True)

    def cancel_sign_in(self, authorize_url: str, callback_prefix: str) -> None:
        """Refuses on the provider's login page."""
        self.driver.get(authorize_url)
        self.wait_for_page("login")
        self.driver.find_element(By.ID, "login-cancel").click()
        self._until_at_callback(callback_prefix, allow_login=False)

    def daemon_message(self) -> str | None:
        """The text of the daemon's own page (``p#message``), if shown."""
        try:
            found = self.driver.find_elements(By.ID, "message")
            return found[0].text if found else None
        except WebDriverException:
            return None

    def _until_at_callback(self, prefix: str, allow_login: bool) -> None:
        deadline = time.monotonic() + PAGE_TIMEOUT
        while True:
            url = self.driver.current_url
            if url.startswith(prefix) and self.daemon_message() is not None:
                return
            if allow_login and self.page() == "login":
                self.fill_login()
                self._leave("login")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the browser never reached {prefix}; it is at {url}")
            time.sleep(0.05)


def saml_sign_in(browser: Browser, sso_url: str, callback_prefix: str) -> None:
    """Follows the daemon's SSO link through SimpleSAMLphp's login page to
    the daemon's ACS."""
    from .saml_idp import PASSWORD, USERNAME

    driver = browser.driver
    driver.get(sso_url)
    deadline = time.monotonic() + PAGE_TIMEOUT
    while True:
        if driver.current_url.startswith(callback_prefix) and browser.daemon_message():
            return
        fields = driver.find_elements(By.ID, "username")
        if fields and fields[0].is_displayed():
            fields[0].clear()
            fields[0].send_keys(USERNAME)
            driver.find_element(By.ID, "password").send_keys(PASSWORD)
            driver.find_element(By.ID, "submit_button").click()
            browser.leave_element("username")
        if time.monotonic() > deadline:
            raise TimeoutError(f"never reached {callback_prefix}; at {driver.current_url}")
        time.sleep(0.05)
