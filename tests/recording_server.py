"""A local stand-in for the messaging vendors' servers: WeCom's gettoken and message/send,
and a webhook receiver. It records every call, so tests see what the bot pushed."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    ok: bool = True  # answered with success

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class RecordingServer:
    """``expire_next`` makes the next message/send answer 42001 (access token expired)."""

    corp_id: str = "wwcorp"
    secret: str = "app-secret"
    calls: list[Call] = field(default_factory=list)
    expire_next: bool = False
    fail_sends: int = 0
    tokens_issued: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                call = Call(self.command, parts.path, query, dict(self.headers), body)
                status, reply = recorder.respond(call)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def respond(self, call: Call) -> tuple[int, dict]:
        with self._lock:
            self.calls.append(call)
            if call.path == "/cgi-bin/gettoken":
                if (
                    call.query.get("corpid") != self.corp_id
                    or call.query.get("corpsecret") != self.secret
                ):
                    return 200, {"errcode": 40013, "errmsg": "invalid corpid"}
                self.tokens_issued += 1
                return 200, {
                    "errcode": 0,
                    "access_token": f"tok-{self.tokens_issued}",
                    "expires_in": 7200,
                }
            if call.path == "/cgi-bin/message/send":
                if call.query.get("access_token") != f"tok-{self.tokens_issued}":
                    call.ok = False
                    return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
                if self.expire_next:
                    self.expire_next = False
                    call.ok = False
                    return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            if self.fail_sends:
                self.fail_sends -= 1
                call.ok = False
                return 500, {"errcode": -1}
            return 200, {"errcode": 0, "errmsg": "ok"}

    def sent(self, path: str = "/cgi-bin/message/send") -> list[Call]:
        """Successful calls to ``path`` (WeCom's message/send, or a webhook receiver's)."""
        with self._lock:
            return [c for c in self.calls if c.path == path and c.ok]

    def wait_for(self, n: int, path: str = "/cgi-bin/message/send", timeout: float = 60) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.sent(path)
            if len(calls) >= n:
                return calls
            time.sleep(0.05)
        raise AssertionError(f"{len(self.sent(path))} calls to {path}, expected {n}")
