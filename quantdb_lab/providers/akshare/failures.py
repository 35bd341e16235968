"""What a failed akshare call means, decided once from the exception and what the call saw on the wire.

Translation table (akshare 1.19.5 behaviour, see the upstream notes), first match wins:

* **ban** -> ``ProviderUnavailableError(kind="ban", retryable=True)``: an HTTP 403, 429 or 456 answer, or an HTML
  page (a captcha) where JSON was expected, whatever akshare made of the body (a KeyError, a JSONDecodeError,
  or "no data" for a 403 whose JSON says ``"data": null``). The throttle opens the breaker at once and the error
  carries its ``retry_at``: retryable later, not now;
* **unreachable** -> ``ProviderUnavailableError(kind="unreachable", retryable=False)``: no connection could be
  made at all (the name does not resolve, the connection is refused, no route to the host or the proxy). Not
  retried like a timeout: the user learns at once, in one line, which host and what to do;
* **timeout** -> ``kind="timeout"``, retryable: no answer within the call's deadline, or requests' own timeouts;
* **no data** -> ``None``: ``pd.DataFrame()`` without columns (handled by the caller), ``TypeError`` about
  ``NoneType`` (``"data": null``), ``IndexError`` (unknown board), ``ValueError`` "all scalar values" /
  "Expected object or value";
* other transport failures -> retryable ``ProviderUnavailableError``: requests' ConnectionError, ProxyError,
  ``RemoteDisconnected`` (Eastmoney's ban signature, which the breaker recognises), a JSONDecodeError of a
  non-HTML body;
* format changed -> ``ProviderSchemaError``: ``ValueError`` "Length mismatch", ``KeyError``;
* anything else -> ``ProviderUnavailableError(retryable=False)``.
"""

from __future__ import annotations

import errno
import json
import socket
from collections.abc import Iterator, Mapping, Sequence
from http.client import RemoteDisconnected
from typing import Any, Final, Literal

from quantdb_lab.errors import ProviderSchemaError, ProviderUnavailableError
from quantdb_lab.providers.akshare.wire import Answer

Outcome = Literal["empty", "unavailable", "schema"]

BAN_STATUSES: Final = frozenset({403, 429, 456})
_EMPTY_MESSAGES = ("all scalar values", "Expected object or value")
OFFLINE_HINT: Final = (
    'no network? Offline, use Lab(provider="simulated") or set QUANTDB_LAB_PROVIDER=simulated; '
    "behind a proxy, set HTTPS_PROXY"
)


def classify(exc: BaseException) -> Outcome | None:
    """Which of our outcomes an exception raised inside akshare stands for; ``None`` if unknown."""
    import requests
    import urllib3

    # JSONDecodeError is also a ValueError: transport failures are decided first.
    transport = (requests.RequestException, urllib3.exceptions.HTTPError, RemoteDisconnected, ConnectionError)
    if isinstance(exc, (*transport, TimeoutError, json.JSONDecodeError)):
        return "unavailable"
    if isinstance(exc, KeyError):
        return "schema"
    if isinstance(exc, IndexError):
        return "empty"
    if isinstance(exc, TypeError) and "NoneType" in str(exc):
        return "empty"
    if isinstance(exc, ValueError):
        message = str(exc)
        if "Length mismatch" in message:
            return "schema"
        if any(text in message for text in _EMPTY_MESSAGES):
            return "empty"
    return None


# -- bans --------------------------------------------------------------------------------------------------
def ban_in(answers: Sequence[Answer], *, html: bool = True) -> Answer | None:
    """The answer that was a refusal (a ban status, or, with ``html``, an HTML page), if any was one. A call
    that akshare parsed without error passes ``html=False``: some of its functions read HTML pages (Sina's
    dividend tables), and a page it parsed was the data, not a captcha."""
    return next((a for a in reversed(answers) if a.status in BAN_STATUSES or (html and a.html)), None)


def ban_error(function: str, answer: Answer, context: Mapping[str, Any]) -> ProviderUnavailableError:
    what = f"HTTP {answer.status}" + (" with an HTML page (a captcha?)" if answer.html else "")
    return ProviderUnavailableError(
        f"{answer.host} refused akshare.{function} ({what}): an IP ban or rate limit; calls to it pause until "
        "the breaker lets a probe through",
        retryable=True, kind="ban", host=answer.host, **context,
    )  # fmt: skip


# -- unreachable hosts ---------------------------------------------------------------------------------------
_UNREACHABLE_ERRNOS: Final = {
    errno.ECONNREFUSED: "connection refused",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETDOWN: "network down",
    errno.EHOSTDOWN: "host down",
}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps: causes, contexts, exceptions in its args, urllib3's ``reason``."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        stack.extend(e for e in inner if isinstance(e, BaseException))


def _connection_failure(exc: BaseException) -> str | None:
    """What went wrong when no connection could be made at all, else None."""
    import urllib3

    for current in _chain(exc):
        if isinstance(current, (socket.gaierror, urllib3.exceptions.NameResolutionError)):
            return "the name does not resolve"
        if isinstance(current, OSError) and current.errno in _UNREACHABLE_ERRNOS:
            return _UNREACHABLE_ERRNOS[current.errno]
    for current in _chain(exc):
        # NewConnectionError derives from ConnectTimeoutError for compatibility: a refusal, not a timeout,
        # unless the connection attempt itself timed out.
        if isinstance(current, urllib3.exceptions.NewConnectionError) and "timed out" not in str(current):
            return "no connection could be made"
    return None


def _failed_endpoint(exc: BaseException) -> str | None:
    """``host:port`` of the connection that could not be made (urllib3 keeps it on the error)."""
    for current in _chain(exc):
        conn = getattr(current, "conn", None)
        if conn is not None and getattr(conn, "host", None):
            return f"{conn.host}:{conn.port}"
    return None


def _request_host(exc: BaseException) -> str | None:
    from urllib.parse import urlsplit

    for current in _chain(exc):
        request = getattr(current, "request", None)
        if request is not None and getattr(request, "url", None):
            return urlsplit(request.url).hostname
        pool = getattr(current, "pool", None)
        if pool is not None and getattr(pool, "host", None):
            return pool.host
    return None


def unreachable_error(function: str, exc: BaseException, context: Mapping[str, Any]) -> ProviderUnavailableError | None:
    """The one-line error for a host (or proxy) that could not be reached at all, or None if it was reached."""
    import requests

    what = _connection_failure(exc)
    if what is None:
        return None
    host = _request_host(exc) or "the upstream"
    if any(isinstance(e, requests.exceptions.ProxyError) for e in _chain(exc)):
        proxy = _failed_endpoint(exc) or "(as configured)"
        reason = (f"could not reach the proxy {proxy} ({what}) on the way to {host} for akshare.{function}: "
                  'check HTTPS_PROXY and HTTP_PROXY, or work offline with Lab(provider="simulated") '
                  "(QUANTDB_LAB_PROVIDER=simulated)")  # fmt: skip
        return ProviderUnavailableError(reason, retryable=False, kind="unreachable", host=proxy, **context)
    reason = f"could not reach {host} ({what}) for akshare.{function}: {OFFLINE_HINT}"
    return ProviderUnavailableError(reason, retryable=False, kind="unreachable", host=host, **context)


# -- everything else ---------------------------------------------------------------------------------------
def translate(function: str, exc: Exception, answers: Sequence[Answer], context: Mapping[str, Any]) -> None:
    """Raise the typed error ``exc`` (raised inside akshare) stands for, ``from exc``; return for "no data"."""
    import requests

    answer = ban_in(answers)
    if answer is not None:
        raise ban_error(function, answer, context) from exc
    unreachable = unreachable_error(function, exc, context)
    if unreachable is not None:
        raise unreachable from exc
    outcome = classify(exc)
    detail = f"{type(exc).__name__}: {_first_line(exc)}"
    if outcome == "empty":
        return
    if isinstance(exc, (requests.Timeout, TimeoutError)):
        host = _request_host(exc)
        raise ProviderUnavailableError(
            f"{host or 'the upstream'} did not answer akshare.{function} in time ({detail})",
            retryable=True, kind="timeout", host=host, **context,
        ) from exc  # fmt: skip
    if outcome == "unavailable":
        raise ProviderUnavailableError(
            f"akshare.{function} could not get an answer from upstream ({detail})", retryable=True,
            host=_request_host(exc), **context,
        ) from exc  # fmt: skip
    if outcome == "schema":
        raise ProviderSchemaError(
            f"akshare.{function} could not parse the upstream answer; its format changed ({detail})", **context
        ) from exc
    raise ProviderUnavailableError(
        f"akshare.{function} failed unexpectedly ({detail})", retryable=False, **context
    ) from exc


def _first_line(exc: BaseException, limit: int = 240) -> str:
    """The exception's text on one line, cut at ``limit`` characters (urllib3's run to 600)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
