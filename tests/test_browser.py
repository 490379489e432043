"""The built book in a real browser: headless Chromium, no network, every page checked.

Runs after ``make book`` on the HTML it built: ``make browser-test`` runs it on ``_build/html``
(``$STGCN_BOOK_HTML`` points it at another build), installing Debian's browser first where it
can. Without a browser it skips and says why; with ``STGCN_REQUIRE_BROWSER=1`` (as in CI) a
missing book, browser or driver fails instead. A plain ``pytest`` skips it.
For every page of the table of contents it checks that the page loads without console
errors, shows its figures, shows no error output or traceback, renders its widgets (no "kernel
required" placeholders), that its internal links resolve, and that its mathematics is typeset
by the MathJax served from the build. A screenshot per page goes to ``<book>/screenshots/``.

The browser is Debian's ``chromium`` with ``chromium-driver`` (``apt-get install chromium
chromium-driver``), driven by selenium; every request that leaves ``file://`` is blocked, as
on a laptop without a network.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = Path(os.environ.get("STGCN_BOOK_HTML", ROOT / "_build" / "html")).resolve()
REQUIRED = os.environ.get("STGCN_REQUIRE_BROWSER") == "1"
ASKED = REQUIRED or "STGCN_BOOK_HTML" in os.environ
PAGES = [
    "index.html",
    *sorted(p.relative_to(BOOK).as_posix() for p in BOOK.glob("book/*.html")),
    "api.html",
    "references.html",
]

pytestmark = pytest.mark.browser


def _unavailable(reason: str):
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def driver():
    if not ASKED:
        pytest.skip("the browser test runs with make browser-test, after make book")
    if not (BOOK / "index.html").is_file():
        _unavailable(f"no built book at {BOOK} (run make book first)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[dev]')")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not browser or not chromedriver:
        _unavailable(
            "no chromium/chromedriver on PATH (Debian: apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--allow-file-access-from-files",
        "--window-size=1280,1600",
        # no network: every host resolves nowhere, as offline
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(chromedriver), options=options)
    drv.set_page_load_timeout(120)
    yield drv
    drv.quit()


def _open(driver, page: str):
    driver.get((BOOK / page).as_uri())
    # wait for MathJax (when the page has it) and for the widget manager to finish
    driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const start = Date.now();
        (function wait() {
          const mj = window.MathJax;
          const mathReady = !mj || (mj.startup && mj.startup.promise);
          if (mathReady && mj && mj.startup) {
            mj.startup.promise.then(() => setTimeout(done, 1500)).catch(() => done());
          } else if (Date.now() - start > 20000) { done(); }
          else if (!mj && document.readyState === 'complete') { setTimeout(done, 1500); }
          else { setTimeout(wait, 100); }
        })();
        """
    )


@pytest.mark.parametrize("page", PAGES)
def test_page_works_offline(driver, page):
    from selenium.webdriver.common.by import By

    driver.set_script_timeout(60)
    _open(driver, page)
    shots = BOOK / "screenshots"
    shots.mkdir(exist_ok=True)
    driver.save_screenshot(str(shots / (Path(page).stem + ".png")))
    problems = []

    # console errors (file:// favicon misses aside)
    for entry in driver.get_log("browser"):
        if entry["level"] == "SEVERE" and "favicon" not in entry["message"]:
            problems.append(f"console: {entry['message'][:300]}")

    # error outputs and tracebacks
    body = driver.find_element(By.TAG_NAME, "body").text
    for marker in ("Traceback (most recent call last)", "Error in callback"):
        if marker in body:
            problems.append(f"page text holds {marker!r}")
    if driver.find_elements(By.CSS_SELECTOR, ".output.traceback, div.cell_output .output.error"):
        problems.append("an error output cell")

    # figures: every image loaded, and chapters have some
    images = driver.find_elements(By.CSS_SELECTOR, "main img, article img")
    broken = [
        img.get_attribute("src")[:80]
        for img in images
        if not driver.execute_script("return arguments[0].naturalWidth > 0", img)
    ]
    if broken:
        problems.append(f"images that did not load: {broken[:5]}")
    if page.startswith("book/") and not images:
        problems.append("a chapter without any figure")

    # mathematics typeset by MathJax (served from the build), no raw TeX left
    n_math, raw = driver.execute_script(
        "const m = Array.from(document.querySelectorAll('.math'));"
        "return [m.length, m.filter(e => !e.querySelector('mjx-container')).length];"
    )
    if raw:
        problems.append(f"{raw} of {n_math} formulas left as raw TeX (MathJax did not run)")

    # widgets rendered from their saved state (by the manager served from the build): one
    # rendered view per saved view, and no placeholders
    views, rendered = driver.execute_script(
        "return [document.querySelectorAll("
        "'script[type=\"application/vnd.jupyter.widget-view+json\"]').length,"
        " Array.from(document.querySelectorAll('.widget-subarea'))"
        ".filter(e => e.querySelector('.jupyter-widgets')).length];"
    )
    if rendered < views:
        problems.append(f"{views - rendered} of {views} saved widget views did not render")
    for text in ("kernel required", "Loading widget...", "Error rendering Jupyter widget"):
        if text.lower() in body.lower():
            problems.append(f"widget placeholder {text!r}")

    # internal links resolve to files of the build
    for a in driver.find_elements(By.CSS_SELECTOR, "a[href]"):
        url = urlparse(a.get_attribute("href"))
        if url.scheme != "file":
            continue
        target = Path(unquote(url.path))
        if not target.exists():
            shown = target.relative_to(BOOK) if BOOK in target.parents else target
            problems.append(f"broken link to {shown}")
    assert not problems, f"{page}:\n  " + "\n  ".join(problems[:20])
