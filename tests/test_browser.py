"""Every page of the built book, opened in headless Chromium: math, images, console, links.

Uses Debian's chromium through Playwright (no browser download). Screenshots go to
``_build/screenshots`` (not committed). Skips with a message only when no browser is installed;
``.ci/run`` installs one when it is missing.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
SKIP_PAGES = {"search.html", "genindex.html", "py-modindex.html"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


@pytest.fixture(scope="module")
def site(built_book, serve_folder):
    returncode, log, html = built_book
    assert returncode == 0, "the book did not build:\n" + log[-3000:]
    return html, serve_folder(html)


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium found: install it once with `apt-get install chromium` "
                    "(.ci/run does this when it is missing)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def pages(html: Path) -> list[str]:
    found = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html)
        if rel.parts[0].startswith("_") or rel.name in SKIP_PAGES or rel.name == "index.html":
            continue
        found.append(rel.as_posix())
    return found


def test_site_has_pages(site):
    html, _ = site
    assert "book/intro.html" in pages(html)


def test_every_page_renders(site, browser):
    html, base = site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    checked_links: dict[str, int] = {}
    for rel in pages(html):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        console_errors: list[str] = []
        page.on("console", lambda msg, sink=console_errors: sink.append(msg.text)
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc, sink=console_errors: sink.append(str(exc)))
        page.goto(urljoin(base, rel), wait_until="load")
        # Math: every math node MathJax should typeset has produced an mjx-container.
        n_math = page.evaluate("document.querySelectorAll('div.math, span.math').length")
        if n_math:
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=20_000)
            page.evaluate("MathJax.startup.promise")
            n_typeset = page.evaluate("document.querySelectorAll('mjx-container').length")
            if n_typeset < n_math:
                problems.append(f"{rel}: {n_math - n_typeset} of {n_math} math nodes not typeset")
            tex_errors = page.evaluate(
                "[...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error'))"
            )
            if tex_errors:
                problems.append(f"{rel}: TeX errors: {tex_errors[:3]}")
        body_text = page.evaluate("document.querySelector('main, article, body').innerText")
        if "$$" in body_text:
            problems.append(f"{rel}: raw $$ left in the page text")
        broken = page.evaluate(
            "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.getAttribute('src'))"
        )
        if broken:
            problems.append(f"{rel}: images not loaded: {broken[:5]}")
        if console_errors:
            problems.append(f"{rel}: console errors: {console_errors[:3]}")
        hrefs = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
        for href in hrefs:
            target = href.split("#", 1)[0]
            if urlparse(target).netloc != urlparse(base).netloc or target in checked_links:
                continue
            try:
                with urllib.request.urlopen(target, timeout=10) as resp:
                    checked_links[target] = resp.status
            except urllib.error.HTTPError as exc:
                checked_links[target] = exc.code
            if checked_links[target] != 200:
                problems.append(f"{rel}: link to {target} answers {checked_links[target]}")
        page.screenshot(path=str(SCREENSHOTS / (rel.replace("/", "__") + ".png")), full_page=False)
        page.close()
    assert checked_links, "no internal links were found at all"
    assert not problems, "\n".join(problems)
