"""Headless Chromium wrapper: PDF, screenshot, DOM, and clear failures."""

import os
import time

import numpy as np
import pytest

from workbench.reporting import browser

PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>测试页</title>
<style>body { font-family: "Noto Sans CJK SC", sans-serif; margin: 0; }
.block { width: 200px; height: 100px; background: #8b1e1e; }</style></head>
<body><h1>信用风险分类</h1><div class="block"></div></body></html>"""


@pytest.fixture
def page(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    return path


def test_finds_debian_chromium():
    exe = browser.find_chromium()
    assert exe.name in browser.CANDIDATES and os.access(exe, os.X_OK)


def test_missing_chromium_says_how_to_install_it(monkeypatch, tmp_path, page):
    monkeypatch.delenv("WORKBENCH_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no chromium anywhere
    with pytest.raises(browser.BrowserNotFound, match="apt-get install -y chromium"):
        browser.find_chromium()
    with pytest.raises(browser.BrowserNotFound, match="chromium, chromium-browser"):
        browser.print_pdf(page, tmp_path / "x.pdf")


def test_a_wrong_override_is_named(monkeypatch):
    monkeypatch.setenv("WORKBENCH_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(browser.BrowserNotFound, match="WORKBENCH_CHROMIUM"):
        browser.find_chromium()


def test_print_pdf(page, tmp_path):
    pdf = browser.print_pdf(page, tmp_path / "out" / "page.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"NotoSansCJK" in data


def test_screenshot_has_the_window_size_and_draws_the_page(page, tmp_path):
    from PIL import Image

    png = browser.screenshot(page, tmp_path / "page.png", width=400, height=300)
    with Image.open(png) as image:
        assert image.size == (400, 300)
        pixels = np.asarray(image.convert("RGB"), dtype=int)
    red = (pixels[..., 0] > 120) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)
    assert 0.1 < red.mean() < 0.25  # the 200×100 block on a 400×300 window (~17 %)


def test_dump_dom(page):
    dom = browser.dump_dom(page)
    assert "<h1>信用风险分类</h1>" in dom and "<title>测试页</title>" in dom


def test_a_missing_page_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such page"):
        browser.dump_dom(tmp_path / "absent.html")


def test_timeout_kills_chromium_and_says_so(page):
    started = time.monotonic()
    with pytest.raises(browser.BrowserError, match="did not finish within"):
        browser.dump_dom(page, timeout=0.05)
    assert time.monotonic() - started < 10
