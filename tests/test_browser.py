"""The report in a real browser: headless Chromium driven by selenium.

Opens ``index.html`` of a replication run and checks that every image loads, no element
overflows the page width, every in-page link resolves, and the console has no errors; saves
a screenshot of the top of the report (``screenshot_top.png``) into the output folder.
Skipped when selenium, chromium or chromedriver is missing (``.ci/run`` installs them).
"""

from __future__ import annotations

import shutil

import pytest

from surveylib.report.runner import run_replication
from surveylib.study import locate

webdriver = pytest.importorskip("selenium.webdriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="chromium and chromium-driver are not installed")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    out = tmp_path_factory.mktemp("browser")
    assert run_replication(out, study=locate(), progress=False) == 0
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        driver.get((out / "index.html").as_uri())
        yield driver, out
    finally:
        driver.quit()


def test_every_image_loads(page):
    driver, _ = page
    broken = driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.alt);")
    assert driver.execute_script("return document.images.length;") >= 10
    assert broken == []


def test_nothing_overflows_the_page_width(page):
    driver, _ = page
    wide = driver.execute_script("""
        const w = document.documentElement.clientWidth;
        return Array.from(document.querySelectorAll('body *'))
          .filter(e => !e.closest('.scroll'))
          .filter(e => e.getBoundingClientRect().right > w + 1)
          .map(e => e.tagName + ' ' + (e.id || e.className));""")
    assert wide == []
    assert driver.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth;")


def test_every_in_page_link_resolves(page):
    driver, _ = page
    missing = driver.execute_script("""
        return Array.from(document.querySelectorAll('a[href^="#"]'))
          .map(a => a.getAttribute('href').slice(1))
          .filter(id => !document.getElementById(id));""")
    assert missing == []


def test_no_console_errors_and_a_screenshot(page):
    driver, out = page
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    driver.execute_script("window.scrollTo(0, 0);")
    path = out / "screenshot_top.png"
    assert driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
