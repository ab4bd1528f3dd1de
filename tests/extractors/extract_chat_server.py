"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions wire protocol, for router tests.

Each request takes the next scripted behaviour (answer, slow, malformed, status code); when the script is
used up, the default behaviour applies. Every request body is recorded so tests can check exactly what a
model tier was sent.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    """What the server does for one request."""

    answer: dict[str, Any] | None = None  # JSON object put in choices[0].message.content
    status: int = 200
    delay: float = 0.0
    raw_content: str | None = None  # content that is not JSON
    raw_body: bytes | None = None  # a body that is not a chat completion at all
    headers: dict[str, str] = field(default_factory=dict)
    tokens: tuple[int, int] = (120, 30)


class ChatServer:
    def __init__(self) -> None:
        self.script: list[Behaviour] = []
        self.default = Behaviour(answer={})
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                server.requests.append(body)
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                behaviour = server.script.pop(0) if server.script else server.default
                if self.path != "/v1/chat/completions":
                    behaviour = Behaviour(status=404)
                time.sleep(behaviour.delay)
                payload = behaviour.raw_body or json.dumps(_completion(body, behaviour)).encode()
                try:
                    self.send_response(behaviour.status)
                    for name, value in behaviour.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def sent_text(self) -> str:
        """Everything every request carried, as one string (to search for leaked values)."""
        return "\n".join(json.dumps(body, ensure_ascii=False) for body in self.requests)


def _completion(request: dict[str, Any], behaviour: Behaviour) -> dict[str, Any]:
    if behaviour.status != 200:
        return {"error": {"message": "scripted failure", "code": behaviour.status}}
    content = behaviour.raw_content if behaviour.raw_content is not None else json.dumps(behaviour.answer or {})
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": request.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": behaviour.tokens[0], "completion_tokens": behaviour.tokens[1]},
    }
