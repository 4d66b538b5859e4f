"""A real HTTP proxy in front of the session's real Prefect server that injects faults: an error status or a
delay for chosen requests. The server behind it is the real one; only the answers a rule picks are changed."""
from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit


@dataclass
class Rule:
    """For requests `matches` picks: answer `status` (without asking the server) or wait `delay` first.
    `skip` matching requests pass untouched first; then `times` of them are hit (None: all of them)."""
    matches: Callable[[str, str], bool]  # (method, path) -> bool
    body_has: bytes = b""  # and the request body contains this
    status: int | None = None
    body: bytes = b'{"detail": "injected fault"}'  # the answer with `status` (a proxy's HTML page, say)
    content_type: str = "application/json"
    delay: float = 0.0
    skip: int = 0
    times: int | None = None
    seen: int = 0
    hit: int = 0

    def applies(self, method: str, path: str, body: bytes = b"") -> bool:
        if not self.matches(method, path) or self.body_has not in body:
            return False
        self.seen += 1
        if self.seen <= self.skip or (self.times is not None and self.hit >= self.times):
            return False
        self.hit += 1
        return True


def deployment_writes(method: str, path: str) -> bool:
    return method == "POST" and path.rstrip("/").endswith("/api/deployments")


def any_request(method: str, path: str) -> bool:
    return True


@dataclass
class FaultProxy:
    upstream: str  # http://127.0.0.1:PORT/api
    rules: list[Rule] = field(default_factory=list)
    log: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status answered)
    # every request as it reached the proxy: (method, path with query, body, headers): what a client sent
    requests: list[tuple[str, str, bytes, dict[str, str]]] = field(default_factory=list)
    # the same with the status answered, once answered (a retried request is here once per try)
    answers: list[tuple[str, str, bytes, dict[str, str], int]] = field(default_factory=list)
    prefix: str = ""  # a path prefix taken off before the request goes upstream (a Cloud-shaped URL, say)
    writes_in_flight: int = 0  # deployment writes received and not yet answered
    most_writes_in_flight: int = 0  # the most at once (reset it between pushes to measure each)

    def __post_init__(self) -> None:
        up = urlsplit(self.upstream)
        proxy = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                counted = deployment_writes(self.command, self.path)
                if counted:
                    with lock:
                        proxy.writes_in_flight += 1
                        proxy.most_writes_in_flight = max(proxy.most_writes_in_flight, proxy.writes_in_flight)
                try:
                    self._serve()
                finally:
                    if counted:
                        with lock:
                            proxy.writes_in_flight -= 1

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._body = body
                with lock:
                    proxy.requests.append((self.command, self.path, body, dict(self.headers.items())))
                    rule = next((r for r in proxy.rules if r.applies(self.command, self.path, body)), None)
                if rule is not None and rule.delay:
                    time.sleep(rule.delay)
                if rule is not None and rule.status is not None:
                    self._answer(rule.status, {"content-type": rule.content_type}, rule.body)
                    return
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                path = self.path
                if proxy.prefix and path.startswith(proxy.prefix):
                    path = up.path.rstrip("/") + path[len(proxy.prefix):]
                conn.request(self.command, path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                out = {k: v for k, v in resp.getheaders()
                       if k.lower() not in ("transfer-encoding", "connection", "content-length")}
                conn.close()
                self._answer(resp.status, out, data)

            def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
                proxy.log.append((self.command, self.path, status))
                proxy.answers.append((self.command, self.path, getattr(self, "_body", b""),
                                      dict(self.headers.items()), status))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client killed mid-request (a test does that on purpose): nothing to report

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix or '/api'}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
