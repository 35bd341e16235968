"""A real S3 API for tests and benchmarks: moto's server on 127.0.0.1, and a fault-injecting proxy before it.

The moto server (``ThreadedMotoServer``) runs in a child process of its own, not in a thread of the test
process: some deltalake (Rust) calls hold the GIL while they wait for the network, and a server thread in the
same interpreter then cannot answer them (observed as a 3-minute hang in ``DeltaTable.history``). A child process
is also what a real store is: another program, which a test can stop mid-run.

Both bind to 127.0.0.1 only, on a free port, and are stopped by whoever started them.
"""

from __future__ import annotations

import http.client
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any

_CHILD = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the parent closes our stdin (or dies)
server.stop()
"""

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


class MotoServer:
    """``with MotoServer() as moto: moto.endpoint`` -> ``http://127.0.0.1:<port>``."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=env,
        )  # fmt: skip
        line = self._proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError("the moto server did not start")
        self.port = int(line)
        return self

    def stop(self) -> None:
        if self._proc is None:
            return
        try:
            self._proc.stdin.close()
            self._proc.wait(timeout=5)
        except Exception:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._proc = None

    def create_bucket(self, name: str) -> None:
        client(self.endpoint).create_bucket(Bucket=name)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )


_SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of ``upstream`` that fails the next requests on demand.

    ``slowdown(n)``: answer 503 SlowDown; ``drop(n)``: close the connection without an answer; ``stall(n, s)``:
    wait ``s`` seconds first (a client timeout shorter than that sees a timeout). ``down()``: drop everything
    until ``up()``. ``requests`` counts what reached the proxy.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.requests = 0
        self.controls = 0
        self.faults_served = 0
        self._plan: list[tuple[str, float]] = []
        self._down = False
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                body = self._body()
                with proxy._lock:
                    proxy.requests += 1
                if self.path.startswith("/__fault__/"):
                    return self._control(self.path.split("/")[2:])
                fault = proxy._next_fault()
                if fault is not None:
                    kind, seconds = fault
                    if kind == "stall":
                        time.sleep(seconds)
                    elif kind == "drop":
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    elif kind == "slowdown":
                        self.send_response(503)
                        self.send_header("Content-Type", "application/xml")
                        self.send_header("Content-Length", str(len(_SLOWDOWN)))
                        self.end_headers()
                        self.wfile.write(_SLOWDOWN)
                        return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding", "content-length")}
                headers["Content-Length"] = str(len(body))
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("transfer-encoding", "content-length", "connection", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                upstream.close()

            def _control(self, parts: list[str]) -> None:
                command, args = parts[0], [float(a) for a in parts[1:] if a]
                if command in ("slowdown", "drop"):
                    getattr(proxy, command)(int(args[0]))
                elif command == "stall":
                    proxy.stall(int(args[0]), args[1])
                elif command in ("down", "up"):
                    getattr(proxy, command)()
                answer = f"{proxy.requests - proxy.controls} {proxy.faults_served}".encode()
                with proxy._lock:
                    proxy.controls += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _next_fault(self) -> tuple[str, float] | None:
        with self._lock:
            if self._down:
                self.faults_served += 1
                return ("drop", 0.0)
            if self._plan:
                self.faults_served += 1
                return self._plan.pop(0)
            return None

    def slowdown(self, n: int) -> None:
        with self._lock:
            self._plan += [("slowdown", 0.0)] * n

    def drop(self, n: int) -> None:
        with self._lock:
            self._plan += [("drop", 0.0)] * n

    def stall(self, n: int, seconds: float) -> None:
        with self._lock:
            self._plan += [("stall", seconds)] * n

    def down(self) -> None:
        self._down = True

    def up(self) -> None:
        self._down = False

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


_PROXY_CHILD = """
import sys
from tests.support.s3 import FaultProxy
proxy = FaultProxy(int(sys.argv[1])).start()
print(proxy.port, flush=True)
sys.stdin.read()
proxy.stop()
"""


class FaultProxyProcess:
    """A :class:`FaultProxy` in a child process (for the GIL reason above), steered over HTTP."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxyProcess:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _PROXY_CHILD, str(self.upstream_port)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=root,
        )  # fmt: skip
        self.port = int(self._proc.stdout.readline())
        return self

    def _control(self, *parts: object) -> tuple[int, int]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", "/__fault__/" + "/".join(map(str, parts)))
        requests, faults = connection.getresponse().read().decode().split()
        connection.close()
        return int(requests), int(faults)

    def slowdown(self, n: int) -> None:
        self._control("slowdown", n)

    def drop(self, n: int) -> None:
        self._control("drop", n)

    def stall(self, n: int, seconds: float) -> None:
        self._control("stall", n, seconds)

    def down(self) -> None:
        self._control("down")

    def up(self) -> None:
        self._control("up")

    def counts(self) -> tuple[int, int]:
        """(requests forwarded or failed so far, faults served so far)."""
        return self._control("count")

    def stop(self) -> None:
        if self._proc is not None:
            try:
                self._proc.stdin.close()
                self._proc.wait(timeout=5)
            except Exception:
                self._proc.kill()
            self._proc = None
