"""A real HTTP server on 127.0.0.1 standing in for a provider API: canned replies per path, requests recorded.

Connectors are tested through real sockets, retries and paging included, never by mocking their functions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import paths

FIXTURES = paths.FIXTURES / "costs" / "http"
FAST = {"backoff": 0.001, "timeout": 5}  # retry settings that keep the suite fast


def fixture_json(name: str) -> Any:
    """A canned response body from tests/fixtures/costs/http/."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Reply:
    """What the fake provider answers: a JSON body (dict/list) or raw text/bytes, a status and headers."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[Recorded], Reply]


class ProviderServer:
    """Routes: path -> replies served in order (the last one repeats) or a handler computing the reply."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply | Handler]] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()

    def route(self, path: str, *replies: Reply | Handler) -> None:
        self.routes[path] = list(replies)

    def requests_to(self, path: str) -> list[Recorded]:
        return [request for request in self.requests if request.path == path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _reply_for(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            queue = self.routes.get(request.path)
            if not queue:
                return Reply({"error": {"message": f"no route for {request.path}"}}, status=404)
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(request) if callable(reply) else reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's naming
                parts = urlsplit(self.path)
                request = Recorded(
                    method="GET",
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={name.lower(): value for name, value in self.headers.items()},
                )
                reply = server._reply_for(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if isinstance(reply.body, dict | list):
                    body, content_type = json.dumps(reply.body).encode(), "application/json"
                elif isinstance(reply.body, str):
                    body, content_type = reply.body.encode(), "text/plain; charset=utf-8"
                else:
                    body, content_type = reply.body or b"", "application/octet-stream"
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type or content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:  # http.server's signature
                pass

        return Handler


@pytest.fixture
def provider() -> Iterator[ProviderServer]:
    """A fresh fake provider per test."""
    server = ProviderServer()
    yield server
    server.close()


def paged(by: dict[str | None, Any], *, param: str = "page") -> Handler:
    """A handler answering by the value of the paging parameter (None: the first request, without one)."""

    def handler(request: Recorded) -> Reply:
        cursor = request.param(param)
        if cursor not in by:
            return Reply({"error": {"message": f"unknown {param} {cursor!r}"}}, status=400)
        return Reply(by[cursor])

    return handler
