"""Extract: call one akshare function under a deadline and translate whatever it raises, once.

akshare is imported here, lazily, and called through the module (``ak.<function>``) so tests and benchmarks
can patch ``akshare.<function>``. The raw frame is returned untouched.

Translation table (akshare 1.19.5 behaviour, see the upstream notes):

* no data -> ``None`` (bar endpoints turn it into an empty canonical frame; the loader decides on
  ``EmptyResultError``): ``pd.DataFrame()`` without columns, ``TypeError`` about ``NoneType`` (``"data":
  null``), ``IndexError`` (unknown board), ``ValueError`` "all scalar values" / "Expected object or value";
* upstream unreachable -> ``ProviderUnavailableError(retryable=True)``: requests' ConnectionError, Timeout,
  ProxyError, ``JSONDecodeError`` (an HTML, captcha or 403 page), ``RemoteDisconnected``, our own deadline;
* upstream format changed -> ``ProviderSchemaError`` (not retryable): ``ValueError`` "Length mismatch",
  ``KeyError``;
* anything else -> ``ProviderUnavailableError(retryable=False)``, with the original as ``__cause__``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.client import RemoteDisconnected
from typing import Any, Literal

from quantdb_lab.errors import ProviderSchemaError, ProviderUnavailableError

Outcome = Literal["empty", "unavailable", "schema"]

_EMPTY_MESSAGES = ("all scalar values", "Expected object or value")


class DeadlineExceeded(TimeoutError):
    """The call did not return within the deadline (its thread is abandoned, not killed)."""


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


def run_with_deadline(function: Callable[..., Any], kwargs: Mapping[str, Any], seconds: float) -> Any:
    """``function(**kwargs)`` in a daemon thread; raise :class:`DeadlineExceeded` after ``seconds``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = function(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread below
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"akshare-{getattr(function, '__name__', 'call')}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise DeadlineExceeded(f"no answer within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def clear_akshare_cache(function: str) -> None:
    """Empty the ``lru_cache`` akshare keeps on some list functions, so a fetch is a fetch (a long-lived
    kernel would otherwise get the first answer of the process forever)."""
    import akshare as ak

    cache_clear = getattr(getattr(ak, function, None), "cache_clear", None)
    if callable(cache_clear):
        cache_clear()


def call_akshare(
    function: str,
    kwargs: Mapping[str, Any],
    *,
    timeout: float,
    accepts_timeout: bool,
    context: Mapping[str, Any],
) -> Any | None:
    """Call ``akshare.<function>(**kwargs)``; the raw result, ``None`` for "no data", or a typed error.

    Functions that take ``timeout=`` get it (a per-socket limit in requests); the others run under a deadline
    of ``timeout`` seconds, since akshare passes none to requests for several of them.
    """
    import akshare as ak

    target = getattr(ak, function)
    try:
        if accepts_timeout:
            return target(**kwargs, timeout=timeout)
        return run_with_deadline(target, kwargs, timeout)
    except DeadlineExceeded as exc:
        raise ProviderUnavailableError(
            f"akshare.{function} gave no answer within {timeout:g} s", retryable=True, **context
        ) from exc
    except Exception as exc:
        outcome = classify(exc)
        detail = f"{type(exc).__name__}: {exc}"
        if outcome == "empty":
            return None
        if outcome == "unavailable":
            raise ProviderUnavailableError(
                f"akshare.{function} could not get an answer from upstream ({detail})", retryable=True, **context
            ) from exc
        if outcome == "schema":
            raise ProviderSchemaError(
                f"akshare.{function} could not parse the upstream answer; its format changed ({detail})", **context
            ) from exc
        raise ProviderUnavailableError(
            f"akshare.{function} failed unexpectedly ({detail})", retryable=False, **context
        ) from exc
