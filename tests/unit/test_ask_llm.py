"""The optional LLM planner against a stub OpenAI-compatible server on 127.0.0.1 (http.server in a thread)."""

from __future__ import annotations

import json
import threading
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
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stub.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                      "body": json.loads(body)})  # fmt: skip
                status, text = stub.replies.pop(0) if stub.replies else (500, "no reply scripted")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(text.encode())

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
