"""The optional LLM planner against a stub OpenAI-compatible server on 127.0.0.1 (http.server in a thread), and
the client's hardening (issue 17.8): size and depth caps, a cut body, no credentials across a redirect, a total
deadline; every failure falls back to the rule parser with a note."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from quantdb_lab.query import LLMSettings
from quantdb_lab.query.llm import MODEL_ENV, URL_ENV
from tests.support.sim import make_lab

GOOD = {"intent": "compare", "symbols": ["600519.SH", "000858.SZ"], "metric": "volatility",
        "start": "2025-01-01", "end": "2025-06-06", "window": "period"}  # fmt: skip


class Stub:
    """Answers each POST with the next scripted reply; records the requests."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, str]] = []
        self.requests: list[dict] = []
        self.behaviour: dict = {}  # "cut": send this many bytes of a longer body; "trickle": seconds per byte;
        # "redirect": a Location to send with 302
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                      "method": self.command, "body": json.loads(body) if body else None})  # fmt: skip

            def do_GET(self) -> None:
                self._record()
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                self._record()
                if "redirect" in stub.behaviour:
                    self.send_response(302)
                    self.send_header("Location", stub.behaviour["redirect"])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, text = stub.replies.pop(0) if stub.replies else (500, "no reply scripted")
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if "cut" in stub.behaviour:
                    self.wfile.write(data[: stub.behaviour["cut"]])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if "trickle" in stub.behaviour:
                    for i in range(min(len(data), 200)):  # bounded: at most 200 bytes, then stop
                        if stub.closed:
                            return
                        try:
                            self.wfile.write(data[i: i + 1])
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(stub.behaviour["trickle"])
                    return
                self.wfile.write(data)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.closed = False

    def reply(self, content: str, status: int = 200) -> None:
        self.replies.append((status, json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def stub():
    server = Stub()
    yield server
    server.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return make_lab(tmp_path_factory.mktemp("llm"))[0]


def test_a_valid_llm_plan_is_used(stub, lab):
    stub.reply(json.dumps(GOOD))
    settings = LLMSettings(url=stub.url, model="stub-model", key="secret")
    answer = lab.ask("how jumpy were the two big liquor names this year", planner=settings)
    assert answer.ok and answer.planner == "llm"
    assert answer.plan.to_dict()["symbols"] == GOOD["symbols"] and answer.plan.metric == "volatility"
    sent = stub.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer secret"
    assert sent["body"]["model"] == "stub-model" and "QueryPlan" in sent["body"]["messages"][0]["content"]
    assert sent["body"]["messages"][1]["content"].startswith("how jumpy")


@pytest.mark.parametrize(
    "content, status",
    [
        ("not json at all", 200),
        (json.dumps({**GOOD, "symbols": ["600519.SH"]}), 200),  # fails validation: compare needs two
        (json.dumps({**GOOD, "sql": "DROP TABLE"}), 200),  # unknown field
        (json.dumps({**GOOD, "end": "2031-01-01"}), 200),  # the future
        ("{}", 503),
    ],
)
def test_any_bad_llm_answer_falls_back_to_the_rules(stub, lab, content, status):
    stub.reply(content, status=status)
    answer = lab.ask("贵州茅台和五粮液今年的波动率对比", planner=LLMSettings(url=stub.url, model="m"))
    assert answer.planner == "rules" and answer.ok
    assert any("LLM planner failed" in note for note in answer.notes)
    assert answer.plan.symbols == ("600519.SH", "000858.SZ")


def test_the_environment_configures_the_planner_and_an_unreachable_one_falls_back(stub, lab, monkeypatch):
    stub.reply(json.dumps(GOOD))
    monkeypatch.setenv(URL_ENV, stub.url + "/v1")
    monkeypatch.setenv(MODEL_ENV, "env-model")
    assert lab.ask("anything at all").planner == "llm"
    stub.close()  # now nothing listens there
    answer = lab.ask("Compare the volatility of 600519 and 000858 this year")
    assert answer.planner == "rules" and answer.ok and any("LLM" in n for n in answer.notes)
    assert lab.ask("Compare the volatility of 600519 and 000858 this year", planner="rules").planner == "rules"


# -- hardening (issue 17.8) -------------------------------------------------------------------------------
ZH = "贵州茅台和五粮液今年的波动率对比"


def _falls_back(answer, reason: str) -> None:
    assert answer.planner == "rules" and answer.ok, answer.problems
    notes = [n for n in answer.notes if "LLM planner failed" in n]
    assert notes and reason in notes[0], answer.notes
    assert answer.plan.symbols == ("600519.SH", "000858.SZ")


def test_a_reply_over_the_size_cap_is_refused_without_reading_it_all(stub, lab):
    stub.reply(json.dumps(GOOD) + " " * 3_000_000)
    settings = LLMSettings(url=stub.url, model="m", max_bytes=1_000_000)
    _falls_back(lab.ask(ZH, planner=settings), "larger than")


@pytest.mark.parametrize("nested", ["[" * 200_000 + "]" * 200_000, '{"a":' * 50_000 + "1" + "}" * 50_000],
                         ids=["arrays", "objects"])
def test_deeply_nested_json_falls_back_instead_of_a_recursion_error(stub, lab, nested):
    stub.reply(nested)
    _falls_back(lab.ask(ZH, planner=LLMSettings(url=stub.url, model="m")), "nested")


def test_a_deeply_nested_envelope_falls_back_too(stub, lab):
    stub.replies.append((200, '{"choices":' + "[" * 100_000 + "]" * 100_000 + "}"))
    _falls_back(lab.ask(ZH, planner=LLMSettings(url=stub.url, model="m")), "nested")


def test_a_cut_body_falls_back(stub, lab):
    stub.behaviour["cut"] = 40
    stub.reply(json.dumps(GOOD))
    _falls_back(lab.ask(ZH, planner=LLMSettings(url=stub.url, model="m")), "cut short")


def test_a_redirect_is_not_followed_and_the_key_goes_nowhere_else(stub, lab):
    other = Stub()
    try:
        other.reply(json.dumps(GOOD))
        stub.behaviour["redirect"] = other.url.replace("127.0.0.1", "localhost") + "/v1/chat/completions"
        answer = lab.ask(ZH, planner=LLMSettings(url=stub.url, model="m", key="secret-key"))
        _falls_back(answer, "redirect")
        assert stub.requests[0]["auth"] == "Bearer secret-key"
        assert other.requests == []  # nothing, with or without the key, reached the other host
        assert all("secret-key" not in n for n in answer.notes)
    finally:
        other.close()


def test_the_timeout_is_a_total_deadline_not_a_per_read_timeout(stub, lab):
    stub.behaviour["trickle"] = 0.2  # one byte every 0.2 s: each read succeeds well within any socket timeout
    stub.reply(json.dumps(GOOD))
    started = time.monotonic()
    answer = lab.ask(ZH, planner=LLMSettings(url=stub.url, model="m", timeout=1.0))
    elapsed = time.monotonic() - started
    _falls_back(answer, "deadline")
    assert elapsed < 3.0, elapsed


def test_the_settings_repr_hides_the_key():
    assert "secret" not in repr(LLMSettings(url="http://127.0.0.1:1", model="m", key="secret"))
