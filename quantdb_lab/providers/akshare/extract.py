"""Extract: call one akshare function under a total deadline and translate whatever it raises, once.

akshare is imported here, lazily, and called through the module (``ak.<function>``) so tests and benchmarks
can patch ``akshare.<function>``. The raw frame is returned untouched.

Every call runs in a thread of its own under a deadline: the provider's ``timeout``, or less when an open
``domain.deadlines`` scope (the loader's retry budget) has less left. ``timeout=`` is passed on as well to the
functions that accept it, but it is requests' per-read limit, which a server trickling a byte a second never
trips: the deadline is what ends the call, and the sockets of an abandoned call are shut (``wire.abort``) so
its thread ends too. What the answers were (a 403, a captcha page) comes from ``wire.observe``; what a failure
means is decided in ``failures``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from quantdb_lab.domain.deadlines import current_deadline, remaining
from quantdb_lab.errors import ProviderUnavailableError
from quantdb_lab.providers.akshare.failures import Outcome, ban_error, ban_in, classify, translate
from quantdb_lab.providers.akshare.wire import Observation, abort, observe

__all__ = ["DeadlineExceeded", "Outcome", "call_akshare", "classify", "clear_akshare_cache", "run_with_deadline"]


class DeadlineExceeded(TimeoutError):
    """The call did not return within the deadline (its thread is abandoned and its sockets shut)."""


def run_with_deadline(
    function: Callable[..., Any], kwargs: Mapping[str, Any], seconds: float
) -> tuple[Any, Observation]:
    """``function(**kwargs)`` in a daemon thread, observed on the wire; raise :class:`DeadlineExceeded` after
    ``seconds`` (having shut the call's sockets). Returns the value and what the call saw."""
    box: dict[str, Any] = {}
    ready = threading.Event()

    def target() -> None:
        with observe() as observation:
            box["observation"] = observation
            ready.set()
            try:
                box["value"] = function(**kwargs)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread below
                box["error"] = exc

    thread = threading.Thread(target=target, name=f"akshare-{getattr(function, '__name__', 'call')}", daemon=True)
    thread.start()
    thread.join(seconds)
    ready.wait()
    observation: Observation = box["observation"]
    if thread.is_alive():
        abort(observation)
        raise DeadlineExceeded(f"no answer within {seconds:g} s")
    if "error" in box:
        error = box["error"]
        error.observation = observation  # what the call saw, for the translation
        raise error
    return box["value"], observation


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

    The call ends after ``timeout`` seconds, or sooner when the open deadline has less left.
    """
    import akshare as ak

    target = getattr(ak, function)
    seconds = remaining(timeout)
    if seconds <= 0:
        scope = current_deadline()
        spent = scope.describe() if scope is not None else "the budget"
        raise ProviderUnavailableError(f"akshare.{function} not called: {spent} is spent", retryable=True,
                                       kind="timeout", **context)  # fmt: skip
    call_kwargs = {**kwargs, "timeout": seconds} if accepts_timeout else dict(kwargs)
    try:
        value, observation = run_with_deadline(target, call_kwargs, seconds)
    except DeadlineExceeded as exc:
        raise ProviderUnavailableError(
            f"akshare.{function} gave no answer within {seconds:g} s", retryable=True, kind="timeout", **context
        ) from exc
    except Exception as exc:  # noqa: BLE001 - translated into our typed errors, or "no data"
        translate(function, exc, getattr(exc, "observation", Observation()).answers, context)
        return None
    answer = ban_in(observation.answers, html=False)
    if answer is not None:  # akshare made something of a refusal (a 403 saying "data": null is "no data")
        raise ban_error(function, answer, context)
    return value
