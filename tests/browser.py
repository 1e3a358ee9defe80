"""A real headless Chromium on spdr view's page, for tests/test_view_browser.py and benchmarks/view_fps.py.

Chromium is Debian's (`apt-get install chromium`, which .ci/run does), driven by Playwright's Python package with
that executable; WebGL2 runs on SwiftShader, Chromium's software renderer, so no GPU is needed. `missing()` says
why a browser cannot run here; SPDR_REQUIRE_BROWSER=1 (set by .ci/run once it installed one) turns that
into a failure instead of a skip.
"""

from __future__ import annotations

import base64
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

# software WebGL, and nothing that reaches for the network (this machine has none: Chromium's background
# connections would be refused, many at a time)
FLAGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


def chromium() -> str | None:
    found = os.environ.get("SPDR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found if found and Path(found).exists() else None


def missing() -> str | None:
    """Why no browser test can run here (None: it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright)"
    if chromium() is None:
        return "Chromium is not installed (Debian: apt-get install chromium; or set SPDR_CHROMIUM)"
    return None


@contextmanager
def launched() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serving(path: Path) -> Iterator:
    """spdr view's server for `path` in a thread of this process: (server, manifest, blob)."""
    from inrcodec.api import read_spdr
    from inrcodec.view.scene import build_scene, native_rgba
    from inrcodec.view.server import ViewServer, viewer_routes

    checked = read_spdr(path)
    manifest, blob = build_scene(checked, Path(path).name)
    server = ViewServer(viewer_routes(manifest, blob, lambda: native_rgba(checked)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server, manifest, blob
    finally:
        server.shutdown()
        server.server_close()


class Viewer:
    """One page of the viewer at a fixed viewport; `errors` collects the page's errors and console errors."""

    def __init__(self, browser, url: str, width: int, height: int):
        self.page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(url)
        self.info = self.page.evaluate("spdrViewer.ready")

    def canvas(self, zoom: float, left: int, top: int, compare: bool = False) -> np.ndarray:
        """The canvas (H, W, 4) after a full frame at `zoom`, its top-left canvas pixel at output pixel (top, left)
        of a decode at zoom times the stored size."""
        self.page.evaluate(f"spdrViewer.setView({{zoom: {zoom}, left: {left} / {zoom}, top: {top} / {zoom}}})")
        data = base64.b64decode(self.page.evaluate(f"spdrViewer.snapshot({'true' if compare else 'false'})"))
        w, h = self.info["canvas"]
        return np.frombuffer(data, dtype=np.uint8).reshape(h, w, 4)

    def until(self, expression: str, timeout: float = 10.0):
        """Poll `expression` (awaited) until it is truthy; the page's CSP forbids Playwright's string-eval waits."""
        import time

        end = time.monotonic() + timeout
        while True:
            value = self.page.evaluate(f"(async () => {expression})()")
            if value or time.monotonic() > end:
                assert value, f"still false after {timeout} s: {expression}"
                return value
            time.sleep(0.02)

    def close(self) -> None:
        self.page.close()
