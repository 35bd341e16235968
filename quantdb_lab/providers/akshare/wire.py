"""What an akshare call did on the wire: the HTTP answers it got, and the connections to close if it is abandoned.

akshare reads ``r.json()`` without looking at the status, so a 403 with a JSON body comes back as a KeyError
(or as "no data" when the body says ``"data": null``) and a captcha page as a JSONDecodeError. To tell a ban
from a changed format, ``observe()`` records, for the calls made in its thread, each response's status, host
and content type; ``extract`` reads the record after the call.

A call abandoned at its deadline would otherwise keep reading from a server that trickles a byte a second (a
per-read timeout never fires): ``abort()`` shuts the sockets the observed thread opened, so its read fails and
the thread ends instead of holding a connection to the upstream.

Both hooks wrap library methods once per process (``requests.Session.send``, urllib3's connection
``getresponse``, where the socket is known even when the response takes it over) and do nothing outside an
``observe()`` scope. ``Session.send`` is wrapped rather than the adapter, so replay
libraries that patch the adapter (``responses``) are observed too.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

_local = threading.local()
_install_lock = threading.Lock()
_installed = False


@dataclass(frozen=True, slots=True)
class Answer:
    host: str
    status: int
    html: bool  # an HTML page (a captcha, an error page) where akshare expects JSON


@dataclass
class Observation:
    answers: list[Answer] = field(default_factory=list)
    sockets: list[Any] = field(default_factory=list)


def _is_html(response: Any) -> bool:
    if "html" in response.headers.get("Content-Type", "").lower():
        return True
    head = (getattr(response, "_content", None) or b"")[:64].lstrip().lower()
    return isinstance(head, bytes) and head.startswith((b"<!doctype html", b"<html"))


def install() -> None:
    """Wrap the two library methods (once; idempotent and thread-safe)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import requests.sessions
        import urllib3.connection

        send = requests.sessions.Session.send
        getresponse = urllib3.connection.HTTPConnection.getresponse

        def observed_send(self: Any, request: Any, **kwargs: Any) -> Any:
            response = send(self, request, **kwargs)
            observation: Observation | None = getattr(_local, "observation", None)
            if observation is not None:
                host = urlsplit(request.url).hostname or ""
                observation.answers.append(Answer(host, int(response.status_code), _is_html(response)))
            return response

        def observed_getresponse(self: Any, *args: Any, **kwargs: Any) -> Any:
            observation: Observation | None = getattr(_local, "observation", None)
            if observation is not None and self.sock is not None:
                observation.sockets.append(self.sock)  # before the response may take it over
            return getresponse(self, *args, **kwargs)

        requests.sessions.Session.send = observed_send  # type: ignore[method-assign]
        urllib3.connection.HTTPConnection.getresponse = observed_getresponse  # type: ignore[method-assign]
        _installed = True


@contextmanager
def observe() -> Iterator[Observation]:
    """Record what this thread's HTTP calls see for the body of the block."""
    install()
    observation = Observation()
    previous = getattr(_local, "observation", None)
    _local.observation = observation
    try:
        yield observation
    finally:
        _local.observation = previous


def record(answer: Answer) -> None:
    """Add an answer to this thread's observation, if one is open: what a simulated upstream (no HTTP) uses to
    show the refusals it stands for, so the same ban detection reads them."""
    observation: Observation | None = getattr(_local, "observation", None)
    if observation is not None:
        observation.answers.append(answer)


def abort(observation: Observation) -> None:
    """Shut every socket the observed calls opened: a read blocked on one fails at once."""
    for sock in list(observation.sockets):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
