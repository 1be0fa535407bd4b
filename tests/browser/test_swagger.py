"""Swagger's "Authorize" and "Try it out", and ReDoc, in a real headless Chromium
against the real fleet, on localhost and on 127.0.0.1, with no internet.

Per service and host: open /docs, click Authorize, log in as the admin (the
OAuth2 password form posts to auth_service from the page's origin: a CORS
preflight), close the dialog, expand a protected operation, "Try it out",
"Execute", and read a 200 in the response panel. Then /redoc must render. Every
resource the browser loaded must come from the fleet itself.

In auth_service's Swagger the admin also makes, lists, exchanges and deletes an API
key and makes an app password (test_swagger_manages_api_keys_and_the_app_password).

Debian's chromium and chromium-driver (.ci/run installs them) are driven by
selenium. Without them the test is skipped, except in CI (CI=true), where it fails.
On failure a screenshot is saved under the test's tmp dir and its path printed.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.fleet import Fleet, running_fleet

pytestmark = pytest.mark.e2e

HOSTS = ("localhost", "127.0.0.1")
# A protected operation per service: (method, path, {parameter: value}).
PROTECTED = {
    "auth": ("get", "/auth/verify", {}),
    "album": ("get", "/albums/{album_id}", {"album_id": "ALBUM"}),
    "song": ("get", "/songs/liked", {}),
    "user": ("get", "/users/me", {}),
}
TITLES = {
    "auth": "MusicPlayer auth",
    "album": "MusicPlayer albums",
    "song": "MusicPlayer songs",
    "user": "MusicPlayer users",
}
WAIT_SECONDS = 30
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",  # the fleet is on loopback; a proxy from the environment must not apply
    "--window-size=1280,2400",
)
EXTERNAL_URL = re.compile(r"(?:https?:)?//([A-Za-z0-9.-]+)", re.IGNORECASE)


def browser_binaries() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    message = "chromium and chromedriver are needed: apt-get install chromium chromium-driver"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    browser_binaries()  # skip (or fail in CI) before starting anything
    with running_fleet(tmp_path_factory.mktemp("browser-fleet")) as fleet:
        # The fleet runs on free ports, not the 8000-8003 the default CORS origins
        # name: auth_service must accept every docs page's origin, on both hosts.
        origins = [
            f"http://{host}:{urlsplit(url).port}" for url in fleet.urls.values() for host in HOSTS
        ]
        fleet.stop_service("auth")
        fleet.start("auth", {"CORS_ORIGINS": ",".join(origins)})
        yield fleet


@pytest.fixture(scope="module")
def album_id(browser_fleet: Fleet) -> int:
    with httpx.Client(timeout=60, trust_env=False) as http:
        login = http.post(
            f"{browser_fleet.auth}/auth/login",
            json={"email": browser_fleet.admin_email, "password": browser_fleet.admin_password},
        )
        login.raise_for_status()
        created = http.post(
            f"{browser_fleet.album}/albums",
            json={"title": "Swagger", "artist": "Browser", "genre": "test"},
            headers={"Authorization": f"Bearer {login.json()['auth_token']}"},
        )
        created.raise_for_status()
        return int(created.json()["id"])


@pytest.fixture(scope="module")
def driver(browser_fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_binaries()
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = Options()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP reports
    service = Service(
        executable_path=chromedriver, log_output=str(profile.parent / "chromedriver.log")
    )
    browser = webdriver.Chrome(service=service, options=options)
    browser.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield browser
    finally:
        browser.quit()


def screenshot_on_failure(driver: Any, path: Path) -> Callable[[], None]:
    def save() -> None:
        driver.save_screenshot(str(path))
        print(f"\nscreenshot of the failure: {path}")

    return save


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("service", sorted(PROTECTED))
def test_swagger_authorize_and_try_it_out(
    service: str,
    host: str,
    browser_fleet: Fleet,
    album_id: int,
    driver: Any,
    tmp_path: Path,
) -> None:
    base = browser_fleet.urls[service].replace("127.0.0.1", host)
    save = screenshot_on_failure(driver, tmp_path / f"{service}-{host}.png")
    try:
        driver.get("about:blank")
        driver.delete_all_cookies()
        check_page_names_no_other_host(f"{base}/docs")
        authorize_and_execute(driver, base, service, album_id, browser_fleet)
        check_everything_came_from_the_fleet(driver, browser_fleet)
        redoc_renders(driver, base, service)
        check_everything_came_from_the_fleet(driver, browser_fleet)
    except BaseException:
        save()
        raise


def check_page_names_no_other_host(url: str) -> None:
    for page in (url, url.replace("/docs", "/redoc")):
        with httpx.Client(timeout=10, trust_env=False) as http:
            html = http.get(page).text
        assert EXTERNAL_URL.findall(html) == [], f"{page} names another host"


def authorize(driver: Any, base: str, fleet: Fleet) -> None:
    """Open /docs and log in as the admin with the Authorize dialog."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, WAIT_SECONDS)
    driver.get(f"{base}/docs")
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "button.authorize"))).click()

    dialog = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".modal-ux")))
    dialog.find_element(By.ID, "oauth_username").send_keys(fleet.admin_email)
    dialog.find_element(By.ID, "oauth_password").send_keys(fleet.admin_password)
    dialog.find_element(By.CSS_SELECTOR, "button.modal-btn.authorize").click()
    # Logged in: the dialog offers "Logout" instead of "Authorize"; an error shows
    # the token endpoint's answer (a failed CORS preflight says "Failed to fetch").
    wait.until(
        lambda _: (
            dialog.find_elements(By.XPATH, ".//button[normalize-space()='Logout']")
            or dialog.find_elements(By.CSS_SELECTOR, ".errors")
        )
    )
    errors = dialog.find_elements(By.CSS_SELECTOR, ".errors")
    assert not errors, f"Authorize failed: {errors[0].text}"
    dialog.find_element(By.CSS_SELECTOR, "button.btn-done").click()
    wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, ".modal-ux")))


def authorize_and_execute(
    driver: Any, base: str, service: str, album_id: int, fleet: Fleet
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, WAIT_SECONDS)
    authorize(driver, base, fleet)
    method, path, parameters = PROTECTED[service]
    block = wait.until(
        ec.presence_of_element_located(
            (
                By.XPATH,
                f"//div[contains(@class, 'opblock-{method}')][.//*[@data-path='{path}']]",
            )
        )
    )
    block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait.until(lambda _: block.find_elements(By.CSS_SELECTOR, "button.try-out__btn"))
    block.find_element(By.CSS_SELECTOR, "button.try-out__btn").click()
    for name, value in parameters.items():
        field = block.find_element(By.CSS_SELECTOR, f"input[placeholder='{name}']")
        field.clear()
        field.send_keys(str(album_id) if value == "ALBUM" else value)
    wait.until(ec.element_to_be_clickable(block.find_element(By.CSS_SELECTOR, "button.execute")))
    block.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = wait.until(
        lambda _: block.find_elements(
            By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
        )
    )
    assert status[0].text.strip().startswith("200"), status[0].text


def test_swagger_manages_api_keys_and_the_app_password(
    browser_fleet: Fleet, driver: Any, tmp_path: Path
) -> None:
    """In auth_service's Swagger, as the admin: create an API key ("Try it out" on
    POST /auth/api-keys) and read it in the answer, list the keys (the key is not
    shown again), exchange it, delete it (refused at once), make an app password."""
    base = browser_fleet.auth.replace("127.0.0.1", "localhost")
    save = screenshot_on_failure(driver, tmp_path / "auth-credentials.png")
    try:
        # The earlier tests authorized on this origin, and Swagger keeps that in
        # the page's storage: start logged out.
        driver.get(f"{base}/docs")
        driver.execute_script("window.localStorage.clear(); window.sessionStorage.clear();")
        driver.delete_all_cookies()
        authorize(driver, base, browser_fleet)

        status, created = try_it_out(driver, "post", "/auth/api-keys", body='{"name": "swagger"}')
        assert status == "201", created
        match = re.search(r'"key":\s*"(mpk_[A-Za-z0-9_-]{43})"', created)
        assert match, created
        key = match.group(1)
        key_id = re.search(r'"id":\s*(\d+)', created).group(1)  # type: ignore[union-attr]

        status, listed = try_it_out(driver, "get", "/auth/api-keys")
        assert status == "200", listed
        assert '"name": "swagger"' in listed and key[:8] in listed
        assert key not in listed

        exchange = f"{browser_fleet.auth}/auth/subsonic/token"
        with httpx.Client(timeout=30, trust_env=False) as http:
            assert http.post(exchange, json={"api_key": key}).status_code == 200
            status, _ = try_it_out(driver, "delete", "/auth/api-keys/{key_id}", {"key_id": key_id})
            assert status == "204"
            assert http.post(exchange, json={"api_key": key}).status_code == 401

        status, made = try_it_out(driver, "post", "/auth/app-password")
        assert status == "201", made
        password = re.search(r'"password":\s*"([a-z2-7-]{23})"', made)
        assert password, made
    except BaseException:
        save()
        raise


def try_it_out(
    driver: Any,
    method: str,
    path: str,
    parameters: dict[str, str] | None = None,
    body: str | None = None,
) -> tuple[str, str]:
    """Expand the operation, "Try it out" with `parameters` and the JSON `body`,
    "Execute": the response status and the response cell's text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, WAIT_SECONDS)
    block = wait.until(
        ec.presence_of_element_located(
            (
                By.XPATH,
                f"//div[contains(@class, 'opblock-{method}')][.//*[@data-path='{path}']]",
            )
        )
    )
    if not block.find_elements(By.CSS_SELECTOR, ".opblock-body"):
        block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait.until(lambda _: block.find_elements(By.CSS_SELECTOR, "button.try-out__btn"))
    button = block.find_element(By.CSS_SELECTOR, "button.try-out__btn")
    if "cancel" not in (button.get_attribute("class") or ""):
        button.click()
    for name, value in (parameters or {}).items():
        field = block.find_element(By.CSS_SELECTOR, f"input[placeholder='{name}']")
        field.clear()
        field.send_keys(value)
    if body is not None:
        editor = wait.until(
            lambda _: block.find_elements(By.CSS_SELECTOR, "textarea.body-param__text")
        )
        editor[0].send_keys(Keys.CONTROL, "a")
        editor[0].send_keys(Keys.DELETE)
        editor[0].send_keys(body)
    execute = block.find_element(By.CSS_SELECTOR, "button.execute")
    wait.until(ec.element_to_be_clickable(execute))
    execute.click()
    status = wait.until(
        lambda _: block.find_elements(
            By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
        )
    )
    description = block.find_element(
        By.CSS_SELECTOR, ".live-responses-table .response .response-col_description"
    )
    return status[0].text.strip().split()[0], description.text


def redoc_renders(driver: Any, base: str, service: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base}/redoc")
    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: TITLES[service] in d.find_element(By.TAG_NAME, "body").text
    )


def check_everything_came_from_the_fleet(driver: Any, fleet: Fleet) -> None:
    """Every script, style, font and request of the last page went to the fleet,
    or was never attempted: the page's Content-Security-Policy blocked it (ReDoc's
    Redocly logo), which the browser reports in its console."""
    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource').map(entry => entry.name)"
    )
    blocked = " ".join(
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"] and "blocked" in entry["message"]
    )
    fleet_ports = {urlsplit(url).port for url in fleet.urls.values()}
    for url in loaded:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob"):
            continue
        from_fleet = parts.hostname in HOSTS and parts.port in fleet_ports
        assert from_fleet or f"'{url}'" in blocked, f"the page loaded {url}"
