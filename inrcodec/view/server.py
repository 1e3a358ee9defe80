"""The viewer's local HTTP server: one page, its scripts, and one file's numbers, on 127.0.0.1 only.

Why this shape: the page must work offline and see nothing but the file it was started for, so the server
holds a fixed table of paths (the packaged static files, the manifest, the blob, the native pixels) and
answers 404 to anything else, 405 to anything but GET and HEAD, and 421 to a Host header that is not its
own address (a page elsewhere cannot reach it through a rebound DNS name). The native pixels are decoded
on first request, so a large photo's server starts as soon as its networks are loaded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from ..errors import SpdrError

HOST = "127.0.0.1"
STATIC = {  # served path -> (packaged file, content type)
    "/": ("viewer.html", "text/html; charset=utf-8"),
    "/viewer.css": ("viewer.css", "text/css; charset=utf-8"),
    "/viewer.js": ("viewer.js", "text/javascript; charset=utf-8"),
    "/shaders.js": ("shaders.js", "text/javascript; charset=utf-8"),
    "/view.js": ("view.js", "text/javascript; charset=utf-8"),
}
# the page may load only its own scripts and styles, talk only to this server, and embed nothing
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class _Lazy:
    """bytes made on first use by `make`, once, however many requests ask at the same time."""

    def __init__(self, make: Callable[[], bytes]):
        self._make, self._value, self._lock = make, None, threading.Lock()

    def __call__(self) -> bytes:
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value


def static_file(name: str) -> bytes:
    return resources.files("inrcodec.view").joinpath("static", name).read_bytes()


class ViewServer(ThreadingHTTPServer):
    """Serves `routes` (path -> (content type, bytes maker)) on HOST:port; port 0 picks a free one."""

    daemon_threads = True

    def __init__(self, routes: dict[str, tuple[str, Callable[[], bytes]]], port: int = 0):
        self.routes = routes
        try:
            super().__init__((HOST, port), _Handler)
        except OSError as e:
            raise SpdrError(f"cannot listen on {HOST}:{port}: {e.strerror or e}") from None
        self.hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"


def viewer_routes(manifest: dict, blob: bytes, native: Callable[[], bytes]) -> dict[str, tuple[str, Callable[[], bytes]]]:
    """The page, its scripts, and one file's manifest, blob and (lazily decoded) native pixels."""
    routes: dict[str, tuple[str, Callable[[], bytes]]] = {
        path: (kind, _Lazy(lambda name=name: static_file(name))) for path, (name, kind) in STATIC.items()}
    body = json.dumps(manifest).encode()
    routes["/scene.json"] = ("application/json", lambda: body)
    routes["/scene.bin"] = ("application/octet-stream", lambda: blob)
    routes["/native.bin"] = ("application/octet-stream", _Lazy(native))
    return routes


class _Handler(BaseHTTPRequestHandler):
    server: ViewServer
    server_version = "spdr-view"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def _refuse(self, status: HTTPStatus) -> None:
        self.send_error(status)

    def do_POST(self) -> None:  # noqa: N802
        self._refuse(HTTPStatus.METHOD_NOT_ALLOWED)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST  # noqa: N815

    def _answer(self, body: bool) -> None:
        if self.headers.get("Host", "") not in self.server.hosts:
            return self._refuse(HTTPStatus.MISDIRECTED_REQUEST)
        route = self.server.routes.get(self.path.split("?", 1)[0])
        if route is None:
            return self._refuse(HTTPStatus.NOT_FOUND)
        kind, make = route
        try:
            data = make()
        except SpdrError as e:
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, str(e))
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", POLICY)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format, *args) -> None:  # noqa: A002 (http.server's signature)
        pass  # the CLI prints one line when it starts and one when it stops, not a line a request
