"""Playwright (sync API) driving Debian's chromium; never a downloaded browser."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="nl-NL",
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def login(page, live_server, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@dataclass
class Watch:
    """What a page did that a walk-through must not see: a request to any other host
    (blocked, so a closed ward network is simulated), an error in the console, an
    answer of 500 or more."""

    origin: str
    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def attach(self, context) -> None:  # type: ignore[no-untyped-def]
        context.route("**/*", self._route)

    def watch(self, page) -> None:  # type: ignore[no-untyped-def]
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(f"pageerror: {error}"))
        page.on("response", self._response)

    def _route(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        if url.startswith((self.origin, "data:", "blob:", "about:")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _response(self, response) -> None:  # type: ignore[no-untyped-def]
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    def problems(self) -> dict[str, list[str]]:
        found = {
            "external requests": self.external,
            "console errors": self.console_errors,
            "server errors": self.server_errors,
        }
        return {kind: items for kind, items in found.items() if items}


def watched_page(browser, live_server, **context_options):  # type: ignore[no-untyped-def]
    """A page whose context blocks and records every request that leaves the server."""
    context = browser.new_context(**context_options)
    watch = Watch(origin=live_server.url)
    watch.attach(context)
    page = context.new_page()
    page.set_default_timeout(15000)
    watch.watch(page)
    return context, page, watch
