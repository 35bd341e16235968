"""One bounded HTTP POST and one bounded JSON decode: what the LLM planner needs from the network, no more.

``post_json`` gives the whole exchange a total deadline (connecting, sending, the status line and headers,
every byte of the body: not a per-read socket timeout, which a server trickling one byte at a time never
trips), caps the body at ``max_bytes`` (read in pieces, never all of a huge reply first), never follows a
redirect (a 3xx is an error: urllib would resend the ``Authorization`` header to whichever host the
``Location`` names) and turns every transport failure, a cut body (``IncompleteRead``) included, into
``ProviderUnavailableError``. ``loads_bounded`` refuses JSON nested deeper than ``max_depth`` before decoding
it, so a hostile reply cannot raise ``RecursionError``.

The exchange runs in a daemon thread; at the deadline the caller closes the socket under it and returns.
Standard library only (http.client).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.parse
from typing import Any

from quantdb_lab.errors import InvalidRequestError, ProviderUnavailableError

CHUNK = 64 * 1024


def _fail(message: str) -> ProviderUnavailableError:
    return ProviderUnavailableError(message, retryable=False, dataset="llm_plan")


class _Exchange:
    """The request's state, shared between the worker thread and the caller waiting for it."""

    def __init__(self, url: str, body: bytes, headers: dict[str, str], deadline: float, max_bytes: int) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidRequestError(f"the LLM URL must be http(s)://host[:port]/..., not {parts.scheme!r}")
        self.parts = parts
        self.body, self.headers, self.deadline, self.max_bytes = body, headers, deadline, max_bytes
        self.connection: http.client.HTTPConnection | None = None
        self.status: int | None = None
        self.data: bytes | None = None
        self.error: BaseException | None = None

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline")
        return left

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, which types it
            self.error = exc

    def _run(self) -> None:
        parts = self.parts
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self.connection = kind(parts.hostname, parts.port, timeout=self.remaining())
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        self.connection.request("POST", path, body=self.body, headers=self.headers)
        response = self.connection.getresponse()
        self.status = response.status
        if 300 <= response.status < 400:
            return  # never followed: see the module docstring
        declared = response.getheader("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise ValueError(f"larger than {self.max_bytes} bytes ({declared} declared)")
        pieces, size = [], 0
        while True:
            if self.connection.sock is not None:
                self.connection.sock.settimeout(self.remaining())
            piece = response.read1(CHUNK)
            if not piece:
                break
            size += len(piece)
            if size > self.max_bytes:
                raise ValueError(f"larger than {self.max_bytes} bytes")
            pieces.append(piece)
            self.remaining()
        self.data = b"".join(pieces)
        if declared is not None and declared.isdigit() and size < int(declared):  # read1 does not raise it
            raise http.client.IncompleteRead(self.data, int(declared) - size)

    def abort(self) -> None:
        connection = self.connection
        sock = connection.sock if connection is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if connection is not None:
            connection.close()


def post_json(url: str, payload: dict[str, Any], *, headers: dict[str, str], timeout: float,
              max_bytes: int) -> tuple[int, bytes]:  # fmt: skip
    """POST ``payload`` as JSON; ``(status, body)`` within ``timeout`` seconds in all, or ProviderUnavailableError."""
    body = json.dumps(payload).encode("utf-8")
    exchange = _Exchange(url, body, {"Content-Type": "application/json", **headers}, time.monotonic() + timeout,
                         max_bytes)  # fmt: skip
    worker = threading.Thread(target=exchange.run, name="quantdb-llm-request", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        exchange.abort()
        worker.join(1.0)
        raise _fail(f"no complete reply within the {timeout:g} s deadline")
    exchange.abort()  # the connection is not reused
    error = exchange.error
    if error is not None:
        if isinstance(error, TimeoutError | socket.timeout):
            raise _fail(f"no complete reply within the {timeout:g} s deadline")
        if isinstance(error, http.client.IncompleteRead):
            raise _fail(f"the reply was cut short ({len(error.partial)} bytes, {error.expected} more expected)")
        if isinstance(error, ValueError) and str(error).startswith("larger than"):
            raise _fail(f"the reply is {error}")
        if isinstance(error, http.client.HTTPException | OSError | ValueError):
            raise _fail(f"the request failed: {type(error).__name__}: {error}")
        raise error
    status = exchange.status or 0
    if 300 <= status < 400:
        raise _fail(f"the server answered with a redirect ({status}), which is not followed")
    if status >= 400:
        raise _fail(f"the server answered HTTP {status}")
    return status, exchange.data or b""


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON ``text`` (strings skipped), without decoding it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads_bounded(text: str, *, max_depth: int, what: str) -> Any:
    """``json.loads`` of ``text`` unless it nests deeper than ``max_depth`` (InvalidRequestError then)."""
    if json_depth(text) > max_depth:
        raise InvalidRequestError(f"{what} is nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:  # unreachable below max_depth, kept as a last guard
        raise InvalidRequestError(f"{what} is nested too deeply") from None
    except ValueError:
        raise InvalidRequestError(f"{what} is not JSON") from None
