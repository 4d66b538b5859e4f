"""The HTTP client of the write path: httpx, set up as Prefect's own client sets itself up, without prefect.

`import prefect` is ~0.9 s of a push that registers one flow in ~1 s; httpx is ~0.1 s. So the push talks to the
API through `Api` below over an httpx client `build` makes from settings.ApiSettings exactly as
PrefectClient.__init__ and PrefectHttpxAsyncClient make theirs (headers, auth, TLS, timeouts, limits, CSRF).
Where the settings cannot be settled without Prefect, the caller hands `Api` Prefect's own httpx client instead
(`Api(prefect_client._client, csrf=False)`: it fetches its CSRF token itself); everything above is the same.

Every request is retried here with a short backoff on what `retryable` allows; nothing of the package above.
"""
from __future__ import annotations

import asyncio
import base64
import random
import sys
import time
import uuid
from typing import Any, Callable

if "httpx" not in sys.modules:
    # httpx's package imports its command-line client (click, pygments, rich: ~0.1 s, a fifth of a one-flow
    # push) whenever those are installed, and nothing here runs it: for that one import it reads as absent,
    # which httpx allows for (its `main` then says what to install); `import httpx._main` works again after.
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx
    finally:
        del sys.modules["httpx._main"]
import httpx  # noqa: E402 - the line above loaded it, or something before this module did

from .settings import ApiSettings

# prefect.client.constants.SERVER_API_VERSION of the Prefect this was written against; tests/test_api_bodies.py
# holds it equal to the installed Prefect's
SERVER_API_VERSION = "0.8.4"
PROTECTED_HEADERS = frozenset({"user-agent", "prefect-csrf-token", "prefect-csrf-client"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Worth another try: the server was busy (SQLite answers concurrent writers 503) or failed in passing, or the
# connection broke. Every call made is safe to repeat: deployments are upserted by (flow, name), deletions of
# what is gone count as done, and the marker is written last.
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
BUSY_STATUS = frozenset({429, 503})  # too many writers at once: not a dropped connection or a proxy's 502
# A SQLite server's 503 is a momentary lock collision (with its own services, even for one writer: ~4 writes in
# 100), over within milliseconds: a first wait of 50 ms cost a 200-flow push ~0.4 s more than it needed.
RETRY_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)  # ~6.4 s in all; the watchdog's timeout bounds it


def prefect_version() -> str:
    """The installed Prefect's `prefect.__version__`, for the User-Agent Prefect's client sends: read from its
    _build_info.py, where that attribute comes from, without importing prefect (importlib.metadata takes ~30 ms)."""
    import importlib.util
    import os
    import re

    try:
        spec = importlib.util.find_spec("prefect")
        origin = spec.origin if spec is not None else None
        if origin:
            with open(os.path.join(os.path.dirname(origin), "_build_info.py"), encoding="utf-8") as f:
                found = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', f.read(), re.M)
            if found:
                return found.group(1)
    except (OSError, ImportError, ValueError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("prefect")
    except PackageNotFoundError:
        return "unknown"


def headers(settings: ApiSettings, prefect: str | None = None) -> httpx.Headers:
    """The headers Prefect's client sends with every request (PrefectClient.__init__, PrefectHttpxAsyncClient)."""
    out = httpx.Headers({"X-PREFECT-API-VERSION": SERVER_API_VERSION})
    if settings.auth_string:  # Prefect's order: the auth string wins over an API key
        out["Authorization"] = "Basic " + base64.b64encode(settings.auth_string.encode()).decode()
    elif settings.key:
        out["Authorization"] = f"Bearer {settings.key}"
    out["User-Agent"] = f"prefect/{prefect or prefect_version()} (API {SERVER_API_VERSION})"
    for name, value in settings.custom_headers.items():
        if name.lower() not in PROTECTED_HEADERS:  # Prefect ignores these (with a warning)
            out[name] = value  # httpx's headers: one of another case replaced, as on Prefect's client
    return out


def is_cloud(settings: ApiSettings) -> bool:
    return bool(settings.url) and settings.url.startswith(settings.cloud_api_url)


def _verify(settings: ApiSettings) -> Any:
    import ssl

    if settings.tls_insecure_skip_verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    cafile = settings.ssl_cert_file
    if not cafile:
        import certifi

        cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile)


def build(settings: ApiSettings) -> httpx.AsyncClient:
    """An httpx client as PrefectClient builds its own for a URL: base URL, headers, TLS, timeouts, pool limits,
    redirects, HTTP/2 and transport retries of a refused connection (3)."""
    assert settings.url, "no PREFECT_API_URL: the caller says so before a client is built"
    timeout = settings.request_timeout
    common: dict[str, Any] = dict(
        base_url=settings.url, headers=headers(settings),
        timeout=httpx.Timeout(connect=timeout, read=timeout, write=timeout, pool=timeout), follow_redirects=True)
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=8, keepalive_expiry=25)
    if _plain_http(settings.url):
        # TLS only on a redirect to https: that transport, and the CA bundle it loads (~40 ms of a one-flow
        # push), is made on first use, verified as PrefectClient verifies; plain http needs none of it
        def verified() -> httpx.AsyncBaseTransport:
            return httpx.AsyncHTTPTransport(verify=_verify(settings), limits=limits, http2=settings.enable_http2,
                                            retries=3)
        plain = httpx.AsyncHTTPTransport(verify=False, limits=limits, http2=settings.enable_http2, retries=3)
        return httpx.AsyncClient(transport=plain, mounts={"https://": _OnFirstUse(verified)}, **common)
    client = httpx.AsyncClient(verify=_verify(settings), limits=limits, http2=settings.enable_http2, **common)
    # the transport the API's URL takes (a proxy's, where the environment names one), as PrefectClient picks it
    pool = getattr(client._transport_for_url(httpx.URL(settings.url)), "_pool", None)
    if pool is not None and hasattr(pool, "_retries"):
        pool._retries = 3  # as PrefectClient sets it, after the client is made (so that proxies keep working)
    return client


def _plain_http(url: str) -> bool:
    """An http:// URL where httpx would take no proxy: the environment names none (on Linux, the only place
    urllib looks), as a client given its own transport takes none."""
    import os

    return (url.lower().startswith("http://") and sys.platform.startswith("linux")
            and not any(k.lower().endswith("_proxy") and v for k, v in os.environ.items()))


class _OnFirstUse(httpx.AsyncBaseTransport):
    """A transport made when a request first needs it."""

    def __init__(self, make: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._make = make
        self._transport: httpx.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            self._transport = self._make()
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code in RETRY_STATUS
    return isinstance(exc, httpx.TransportError)  # refused, reset, timed out


class Api:
    """One httpx client for the whole push: requests with a short retry, an error status raised
    (httpx.HTTPStatusError, as Prefect's client raises it), every answer reported to `answered`."""

    def __init__(self, http: httpx.AsyncClient, *, csrf: bool, answered: Callable[[], None] | None = None) -> None:
        self.http = http
        self._csrf = csrf  # fetch a CSRF token before a write (Prefect's client does it itself: False for it)
        self._csrf_token: str | None = None
        self._csrf_expires: float = 0.0
        self._csrf_client = str(uuid.uuid4())
        self._csrf_lock: asyncio.Lock | None = None  # one fetch at a time: the server keeps one token a client
        self._answered = answered
        self.busy_answers = 0  # 503 (SQLite's "database is locked") or 429: the server asks for fewer writers

    async def aclose(self) -> None:
        await self.http.aclose()

    def _answer(self) -> None:
        if self._answered is not None:
            self._answered()

    async def send(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
                   ) -> httpx.Response:
        """One request, no retry: an error status raised."""
        extra: dict[str, str] = {}
        if self._csrf and method in WRITE_METHODS:
            extra = await self._csrf_headers()
        kwargs: dict[str, Any] = {"params": params}
        if json is not None:
            kwargs["json"] = json
        if extra:
            kwargs["headers"] = extra
        try:
            response = await self.http.request(method, path, **kwargs)
            if response.status_code >= 400:
                await response.aread()
                response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            exc.csrf_token_sent = extra.get("Prefect-Csrf-Token")  # type: ignore[attr-defined]
            raise
        return response

    async def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
                      ) -> httpx.Response:
        """A request, retried from 10 ms on what `retryable` allows (every request made is safe to repeat)."""
        for delay in (*RETRY_DELAYS, None):
            try:
                response = await self.send(method, path, json=json, params=params)
                self._answer()
                return response
            except Exception as exc:
                if not isinstance(exc, httpx.TransportError):
                    self._answer()  # an error status is an answer too
                if self._csrf_refused(exc):
                    # the server dropped it (restarted, say): a new one, as Prefect does; unless another request
                    # has fetched one since this one was sent
                    if self._csrf_token == getattr(exc, "csrf_token_sent", None):
                        self._csrf_token = None
                elif delay is None or not retryable(exc):
                    raise
                if delay is None:
                    raise
                status = getattr(getattr(exc, "response", None), "status_code", None)
                self.busy_answers += status in BUSY_STATUS
                await asyncio.sleep(delay * (1 + random.random() / 2))
        raise AssertionError("unreachable")

    def _csrf_refused(self, exc: BaseException) -> bool:
        return (self._csrf and isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 403
                and "Invalid CSRF token" in exc.response.text)

    async def _csrf_headers(self) -> dict[str, str]:
        """As PrefectHttpxAsyncClient._add_csrf_headers: a token per client id, fetched before the first write
        and when it expires; a server without CSRF protection (404, or 422 saying so) turns it off."""
        if self._csrf_lock is None:
            self._csrf_lock = asyncio.Lock()
        async with self._csrf_lock:  # writes in flight at once share one fetch (each would replace the last)
            if self._csrf and (self._csrf_token is None or time.time() > self._csrf_expires):
                response = await self.http.request("GET", f"/csrf-token?client={self._csrf_client}")
                if response.status_code == 404 or (response.status_code == 422
                                                   and "CSRF protection is disabled." in response.text):
                    self._csrf = False
                elif response.status_code >= 400:
                    await response.aread()
                    response.raise_for_status()
                else:
                    token = response.json()
                    self._csrf_token = token["token"]
                    self._csrf_expires = _timestamp(token.get("expiration"))
            if not self._csrf:
                return {}
            return {"Prefect-Csrf-Token": self._csrf_token or "", "Prefect-Csrf-Client": self._csrf_client}


def _timestamp(text: Any) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0  # unreadable: fetch a new token before the next write
