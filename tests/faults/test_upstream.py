"""Upstream faults: a server that trickles, answers that are bans in disguise, hosts that cannot be reached.

akshare runs its real code: its HTTP answers are replayed with ``responses``, or it talks to a real socket on
127.0.0.1 (a trickling server, a refused connection), or to the real network, which this machine does not
reach (those tests skip where akshare's hosts resolve). Nothing here reaches anything but 127.0.0.1.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
import warnings
from datetime import date
from pathlib import Path
from unittest import mock

import pytest
import requests
import responses
from responses import matchers

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import EmptyResultError, ProviderSchemaError, ProviderUnavailableError
from quantdb_lab.lab import Lab
from quantdb_lab.providers.akshare import AkshareProvider
from quantdb_lab.throttle import Throttle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "akshare"
KLINE_URL = "https://push2his.eastmoney.com/api/qt/stock/kline/get"
KLINE_HOST = "push2his.eastmoney.com"
MOUTAI = parse_symbol("600519")
MARCH = (date(2024, 3, 1), date(2024, 3, 5))


def payload(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def rsps():
    with mock.patch("time.sleep"), responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


# -- a server that trickles ---------------------------------------------------------------------------------
class Trickle:
    """An HTTP server on 127.0.0.1 that sends its headers, then one byte a second for ``seconds``."""

    def __init__(self, seconds: float = 12.0) -> None:
        self.open_connections = 0
        trickle = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                trickle.open_connections += 1
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(int(seconds) + 10))
                    self.end_headers()
                    for _ in range(int(seconds)):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(1.0)
                except OSError:
                    pass  # the client gave up and closed: what a deadline should do
                finally:
                    trickle.open_connections -= 1

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kline"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_trickling_server_cannot_hold_a_call_past_its_deadline(fault, monkeypatch):
    server = Trickle()
    try:
        def stock_zh_a_hist(*, timeout: float | None = None, **kwargs: object) -> object:
            return requests.get(server.url, timeout=timeout).json()  # as akshare does: a per-read timeout

        monkeypatch.setattr("akshare.stock_zh_a_hist", stock_zh_a_hist)
        fault.inject()
        with fault.wait("upstream call") as waited, pytest.raises(ProviderUnavailableError) as error:
            AkshareProvider(timeout=2.0).fetch_daily_bars(MOUTAI, *MARCH)
        assert waited["seconds"] < 3.0  # the issue measured 9.1 s with timeout=2
        assert error.value.kind == "timeout" and error.value.retryable is True
        end = time.monotonic() + 3.0  # the abandoned call's connection is closed too, not left trickling
        while server.open_connections and time.monotonic() < end:
            time.sleep(0.05)
        assert server.open_connections == 0
    finally:
        server.stop()


# -- bans in disguise ---------------------------------------------------------------------------------------
BANS = {
    "403 with data null": {"status": 403, "json": payload("kline_data_null.json")},
    "403 with a JSON message": {"status": 403, "json": {"message": "Forbidden", "code": 403}},
    "456 with a JSON message": {"status": 456, "json": {"rc": 456, "msg": "too many requests"}},
    "429 with a JSON body": {"status": 429, "json": {"rc": 102, "data": None}},
    "a captcha page": {"status": 200, "body": (FIXTURES / "captcha_page.html").read_text(encoding="utf-8"),
                       "content_type": "text/html; charset=utf-8"},
}


@pytest.mark.parametrize("answer", list(BANS), ids=list(BANS))
def test_a_refusal_with_any_body_is_a_ban_not_a_schema_error_nor_empty(rsps, fault, answer):
    rsps.get(KLINE_URL, **BANS[answer])
    fault.inject()
    with pytest.raises(ProviderUnavailableError) as error:
        AkshareProvider(timeout=5.0).fetch_daily_bars(MOUTAI, *MARCH)
    assert not isinstance(error.value, (ProviderSchemaError, EmptyResultError))
    assert error.value.kind == "ban" and error.value.retryable is True
    assert error.value.host == KLINE_HOST and KLINE_HOST in str(error.value)
    throttle = Throttle()  # the breaker opens on the first ban and says when it will try again
    with pytest.raises(ProviderUnavailableError) as through:
        throttle.call("eastmoney_push2his", AkshareProvider(timeout=5.0).fetch_daily_bars, MOUTAI, *MARCH)
    assert through.value.kind == "ban" and through.value.retry_at is not None
    assert throttle.status()[0]["breaker"] == "open"


def test_a_ban_is_not_remembered_as_no_bars(rsps, fault, tmp_path):
    """A 403 whose body says "data": null once meant "no bars, remembered": after the ban, the bars come."""
    rsps.get(KLINE_URL, **BANS["403 with data null"])
    fault.inject()
    lab = Lab(tmp_path, provider=AkshareProvider(timeout=5.0), mode="trading")
    with pytest.raises(ProviderUnavailableError):
        lab.bars("600519", start="2024-03-01", end="2024-03-05", adjust="")
    rsps.replace(responses.GET, KLINE_URL, json=payload("kline_stock_600519_daily.json"),
                 match=[matchers.query_param_matcher({"secid": "1.600519"}, strict_match=False)])  # fmt: skip
    lab.throttle.reset()  # the ban was lifted: the breaker would otherwise wait out its cool-down
    frame = lab.bars("600519", start="2024-03-01", end="2024-03-05", adjust="")
    assert frame.height == 3  # the fixture's three sessions (2024-03-01, 04, 05)


# -- hosts that cannot be reached ---------------------------------------------------------------------------
def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def _refusing_getaddrinfo(host, port, *args, **kwargs):
    """Every name resolves to 127.0.0.1, where nothing listens on akshare's ports: connections are refused."""
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture(params=["no network", "refused"])
def offline(request, monkeypatch):
    """The default Lab's akshare provider with no way to its hosts: for real, or every connection refused."""
    if request.param == "no network":
        if _resolves(KLINE_HOST):
            pytest.skip("akshare's hosts resolve here: the no-network case needs a machine without network")
    else:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", 443)) == 0:
                pytest.skip("something listens on 127.0.0.1:443: connections would not be refused")
        monkeypatch.setattr(socket, "getaddrinfo", _refusing_getaddrinfo)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("QUANTDB_LAB_PROVIDER", raising=False)
    return request.param


def test_without_a_connection_the_first_error_is_fast_plain_and_says_what_to_do(tmp_path, fault, offline):
    lab = Lab(tmp_path)  # the default: akshare, research mode
    fault.inject()
    with fault.wait("first error") as waited, pytest.raises(ProviderUnavailableError) as error:
        lab.bars("600519", start="2024-01-01", end="2024-03-01")
    assert waited["seconds"] < 5.0
    message = str(error.value)
    assert "\n" not in message and len(message) < 400, message
    assert KLINE_HOST in message and error.value.host == KLINE_HOST and error.value.kind == "unreachable"
    assert 'provider="simulated"' in message and "QUANTDB_LAB_PROVIDER" in message and "proxy" in message
    assert lab.stats()["throttle"][0]["retries"] == 0  # not retried like a timeout


def test_a_proxy_that_refuses_is_named_as_the_host_that_could_not_be_reached(tmp_path, fault, monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    fault.inject()
    with fault.wait("first error") as waited, pytest.raises(ProviderUnavailableError) as error:
        AkshareProvider(timeout=5.0).fetch_daily_bars(MOUTAI, *MARCH)
    assert waited["seconds"] < 5.0 and error.value.kind == "unreachable"
    assert "proxy" in str(error.value) and f"127.0.0.1:{port}" in str(error.value)


def test_without_a_connection_a_two_symbol_portfolio_ends_fast_and_says_why(tmp_path, fault, offline):
    lab = Lab(tmp_path)
    fault.inject(2)
    with fault.wait("portfolio") as waited, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = lab.portfolio(["600519", "000001"], start="2024-01-01", end="2024-03-01", progress=False)
    assert waited["seconds"] < 30.0
    assert result.failed == ["600519.SH", "000001.SZ"]
    shown = repr(result)
    assert "600519.SH" in shown and "000001.SZ" in shown and "could not reach" in shown
