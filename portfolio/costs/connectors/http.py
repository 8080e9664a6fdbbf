"""The one HTTP client the API connectors share, on the standard library (no extra dependency).

Provider APIs fail in ordinary ways: a dropped connection, a 429 during a busy hour, a 502 from a load
balancer, an HTML login page where JSON was expected, a cursor that never ends. This client turns each
into either a retry or a ConnectorError that names the HTTP status and URL (never the credential) and
says whether retrying later could help, so Celery retries only what is transient.

Settings read from a source (all optional): `timeout` (seconds per request, default 30), `max_attempts`
(default 4), `backoff` (base delay in seconds, default 1; tests use a tiny one), `max_retry_after`
(cap on a server's Retry-After, default 120 s) and `max_pages` (default 1000).
"""

from __future__ import annotations

import http.client
import json
import random
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from portfolio.costs.connectors.base import AMOUNT_LIMIT, ConnectorError, count_within, utc_date, within

Params = Mapping[str, Any] | Sequence[tuple[str, Any]] | None

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_BACKOFF = 1.0
DEFAULT_MAX_RETRY_AFTER = 120.0
DEFAULT_MAX_PAGES = 1000
USER_AGENT = "Tollgate cost ingestion"

_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, socket.timeout)


@dataclass(frozen=True)
class Response:
    """A finished 2xx response: status, headers and the whole body (API pages are small)."""

    url: str
    status: int
    headers: Message
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "") or ""


def setting_number(settings: Mapping[str, Any], key: str, default: float, *, minimum: float = 0) -> float:
    """A numeric setting; source settings are JSON/YAML, so "30" and 30 both count."""
    value = settings.get(key)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConnectorError(f"must be a number, got {value!r}", location=f"settings.{key}") from None
    if number < minimum:
        raise ConnectorError(f"must be at least {minimum:g}, got {value!r}", location=f"settings.{key}")
    return number


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(tz=UTC))).total_seconds())


def parse_link_header(value: str | None) -> dict[str, str]:
    """rel -> URL from an RFC 8288 Link header, as GitHub pages with (`<...>; rel="next", <...>; rel="last"`)."""
    links: dict[str, str] = {}
    for match in re.finditer(r"<([^>]*)>((?:\s*;\s*[^;,]*)*)", value or ""):
        rel = re.search(r'rel\s*=\s*"?([^";]*)"?', match.group(2))
        if rel:
            for name in rel.group(1).split():
                links.setdefault(name.lower(), match.group(1))
    return links


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only on the same scheme and host: urllib would forward the credential anywhere."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: http.client.HTTPMessage, newurl: str
    ) -> urllib.request.Request | None:
        old, new = urlsplit(req.full_url), urlsplit(urljoin(req.full_url, newurl))
        if (old.scheme, old.netloc) != (new.scheme, new.netloc):
            return None  # urllib then raises the 3xx as an HTTPError, which we report
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class HttpClient:
    """GET with timeouts, bounded retries (backoff + jitter, Retry-After honoured) and guarded pagination."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff: float = DEFAULT_BACKOFF,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        max_pages: int = DEFAULT_MAX_PAGES,
        secrets: Iterable[str | None] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url or urlsplit(base_url).scheme not in ("http", "https"):
            raise ConnectorError(f"must be an http(s) URL, got {base_url!r}", location="settings.base_url")
        self.base_url = base_url.rstrip("/") + "/"
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        self.timeout = timeout
        self.max_attempts = max(1, int(max_attempts))
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_pages = max(1, int(max_pages))
        self._secrets = [secret for secret in secrets if secret]
        self._sleep = sleep
        self._opener = urllib.request.build_opener(_SameHostRedirects)

    @classmethod
    def from_settings(
        cls,
        settings: Mapping[str, Any],
        *,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str | None] = (),
    ) -> HttpClient:
        """A client tuned by the source's settings (see the module docstring for the keys)."""
        return cls(
            base_url=base_url,
            headers=headers,
            timeout=setting_number(settings, "timeout", DEFAULT_TIMEOUT, minimum=0.001),
            max_attempts=int(setting_number(settings, "max_attempts", DEFAULT_MAX_ATTEMPTS, minimum=1)),
            backoff=setting_number(settings, "backoff", DEFAULT_BACKOFF),
            max_retry_after=setting_number(settings, "max_retry_after", DEFAULT_MAX_RETRY_AFTER),
            max_pages=int(setting_number(settings, "max_pages", DEFAULT_MAX_PAGES, minimum=1)),
            secrets=secrets,
        )

    # --- single requests -------------------------------------------------------------------------------------

    def url(self, path: str, params: Params = None) -> str:
        """An absolute URL: `path` is joined to the base URL unless it is already absolute (a Link header's)."""
        url = path if urlsplit(path).scheme else urljoin(self.base_url, path.lstrip("/"))
        if params:
            items = list(params.items()) if isinstance(params, Mapping) else list(params)
            query = urlencode([(key, value) for key, value in items if value is not None], doseq=True)
            if query:
                url += ("&" if "?" in url else "?") + query
        return url

    def get(self, path: str, params: Params = None) -> Response:
        """GET once successfully or raise ConnectorError; retries network errors, 429 and 5xx."""
        url = self.url(path, params)
        where = f"GET {self._redact(url)}"
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            request = urllib.request.Request(url, headers=self.headers, method="GET")
            try:
                with self._opener.open(request, timeout=self.timeout) as raw:
                    return Response(url=raw.geturl(), status=raw.status, headers=raw.headers, body=raw.read())
            except urllib.error.HTTPError as error:
                status, body = error.code, _read_quietly(error)
                detail = self._redact(_error_detail(body))
                if status == 429 or status >= 500:
                    if last:
                        raise ConnectorError(
                            f"HTTP {status} {error.reason} after {attempt} attempts{detail}",
                            location=where,
                            transient=True,
                        ) from None
                    wait = self._backoff_delay(attempt)
                    retry_after = retry_after_seconds(error.headers.get("Retry-After") if error.headers else None)
                    if retry_after is not None:
                        wait = max(wait, min(retry_after, self.max_retry_after))
                    self._sleep(wait)
                    continue
                if 300 <= status < 400:
                    target = self._redact(error.headers.get("Location", "") if error.headers else "")
                    raise ConnectorError(
                        f"HTTP {status}: redirected to another host ({target}); not followed with the credential",
                        location=where,
                    ) from None
                raise ConnectorError(f"HTTP {status} {error.reason}{detail}", location=where) from None
            except _NETWORK_ERRORS as error:
                if last:
                    reason = getattr(error, "reason", None) or error
                    raise ConnectorError(
                        f"network error after {attempt} attempts: {self._redact(str(reason))}",
                        location=where,
                        transient=True,
                    ) from None
                self._sleep(self._backoff_delay(attempt))
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt

    def get_json(self, path: str, params: Params = None) -> Any:
        """GET and decode JSON; numbers with a fraction become Decimal so money never passes through float."""
        return self.decode_json(self.get(path, params))

    def decode_json(self, response: Response) -> Any:
        try:
            return json.loads(response.body.decode("utf-8-sig"), parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError):
            snippet = self._redact(response.body[:80].decode("utf-8", "replace").strip())
            raise ConnectorError(
                f"expected JSON but got {response.content_type or 'no content type'} "
                f"that does not parse as JSON (starts {snippet!r})",
                location=f"GET {self._redact(response.url)}",
            ) from None

    # --- pagination ------------------------------------------------------------------------------------------

    def pages_by_cursor(
        self,
        path: str,
        params: Params = None,
        *,
        cursor_param: str = "page",
        next_field: str = "next_page",
        more_field: str = "has_more",
    ) -> Iterator[dict[str, Any]]:
        """Each page of an OpenAI/Anthropic style list: resend with `page=<next_page>` until `has_more` is false."""
        base = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        seen: set[str] = set()
        cursor: str | None = None
        pages = 0
        while True:
            page_params = base + ([(cursor_param, cursor)] if cursor is not None else [])
            payload = self.get_json(path, page_params)
            where = f"GET {self._redact(self.url(path, page_params))}"
            if not isinstance(payload, dict):
                raise ConnectorError(f"expected a JSON object, got {type(payload).__name__}", location=where)
            pages += 1
            yield payload
            if not payload.get(more_field):
                return
            cursor = payload.get(next_field)
            if not cursor:
                raise ConnectorError(f"{more_field} is true but {next_field} is empty", location=where)
            cursor = str(cursor)
            if cursor in seen:
                raise ConnectorError(f"pagination cursor repeated ({cursor}); the server would loop", location=where)
            if pages >= self.max_pages:
                raise ConnectorError(f"more than {self.max_pages} pages (settings.max_pages); stopped", location=where)
            seen.add(cursor)

    def pages_by_link(self, path: str, params: Params = None) -> Iterator[Any]:
        """Each page of a GitHub style list, following the Link header's rel="next" until there is none."""
        url = self.url(path, params)
        home = urlsplit(url)[:2]
        seen = {url}
        pages = 0
        while True:
            response = self.get(url)
            pages += 1
            yield self.decode_json(response)
            next_url = parse_link_header(response.headers.get("Link")).get("next")
            if not next_url:
                return
            next_url = urljoin(response.url, next_url)
            where = f"GET {self._redact(url)}"
            if urlsplit(next_url)[:2] != home:
                raise ConnectorError(
                    f"Link rel=next points to another host ({self._redact(next_url)}); not followed", location=where
                )
            if next_url in seen:
                raise ConnectorError(
                    f"Link rel=next repeats {self._redact(next_url)}; the server would loop", location=where
                )
            if pages >= self.max_pages:
                raise ConnectorError(f"more than {self.max_pages} pages (settings.max_pages); stopped", location=where)
            seen.add(next_url)
            url = next_url

    # --- helpers ---------------------------------------------------------------------------------------------

    def _backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with jitter, so many workers hitting one provider do not retry in step."""
        return self.backoff * (2 ** (attempt - 1)) * random.uniform(0.5, 1.5)  # jitter, not cryptography

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _read_quietly(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read()
    except (OSError, http.client.HTTPException):
        return b""


def _error_detail(body: bytes) -> str:
    """The provider's own error message, when the body is a JSON error ({"error": {"message": ...}} and kin)."""
    try:
        payload = json.loads(body.decode("utf-8", "replace"))
    except (json.JSONDecodeError, ValueError):
        return ""
    message: Any = None
    if isinstance(payload, dict):
        error = payload.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        message = message or payload.get("message")
    return f": {str(message)[:200]}" if message else ""


# --- decoding provider JSON values (shared by the API connectors) -----------------------------------------------


def json_decimal(value: Any, *, field: str, location: str, limit: Decimal | None = AMOUNT_LIMIT) -> Decimal:
    """A money (or, with QUANTITY_LIMIT, quantity) value as Decimal; null counts as 0 (OpenCost writes NaN as null);
    beyond `limit`, what its column holds, it is "too large"."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool):
        raise ConnectorError(f"{field} must be a number, got {value!r}", location=location)
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ConnectorError(f"{field} must be a number, got {value!r}", location=location) from None
    if not number.is_finite():
        raise ConnectorError(f"{field} must be a finite number, got {value!r}", location=location)
    return number if limit is None else within(number, limit, raw=value, location=f"{location} {field}")


def json_int(value: Any, *, field: str, location: str) -> int:
    """A token or request count; null counts as 0, a negative count is refused (usage is never negative)."""
    if value is None:
        return 0
    number = json_decimal(value, field=field, location=location, limit=None)
    if number != number.to_integral_value():
        raise ConnectorError(f"{field} must be a whole number, got {value!r}", location=location)
    if number < 0:
        raise ConnectorError(f"{field} must not be negative, got {value!r}", location=location)
    return count_within(int(number), raw=value, location=f"{location} {field}")


def json_objects(payload: Any, field: str, *, location: str) -> list[dict[str, Any]]:
    """A list-of-objects field of a response object; missing or null is empty, anything else is a clear error."""
    value = payload.get(field) if isinstance(payload, dict) else None
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConnectorError(f"{field} must be a list of objects", location=location)
    return value


def json_date(value: Any, *, field: str, location: str) -> date | None:
    """The UTC day of an RFC 3339 date-time ("2025-06-14T00:00:00Z") or a plain date; null or "" is None."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        return utc_date(text.replace("z", "Z"))  # the providers document UTC; RFC 3339 allows a lowercase z
    except ValueError:
        raise ConnectorError(
            f"{field} must be an RFC 3339 date or date-time, got {value!r}", location=location
        ) from None


def rfc3339(moment: datetime) -> str:
    """A UTC instant as the providers want it in query strings: 2025-06-01T00:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
