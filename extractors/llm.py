"""A small client for OpenAI-compatible chat completions (Ollama, llama.cpp, vLLM, hosted APIs).

Only what the router needs: one JSON-schema-constrained completion per call,
a timeout per HTTP request, retries with exponential backoff on the failures
that are worth retrying (429, 5xx, timeouts, refused connections), and a
circuit breaker per endpoint so a dead model costs one timeout, not one per
document. Errors carry a short code (never a response body: it may echo the
document) and are caught by the router, which falls back to the next tier.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["ChatAnswer", "ChatClient", "CircuitBreaker", "ModelCallError"]

log = logging.getLogger(__name__)

_RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_MAX_RETRY_AFTER_SECONDS = 30.0


class ModelCallError(Exception):
    """A model call that produced no usable answer; ``code`` is one of TIMEOUT, CONNECT, HTTP_<status>,
    MALFORMED, CIRCUIT_OPEN."""

    def __init__(self, code: str, attempts: int = 0) -> None:
        self.code = code
        self.attempts = attempts
        super().__init__(code)


@dataclass(frozen=True)
class ChatAnswer:
    content: dict[str, Any]
    tokens_in: int
    tokens_out: int
    attempts: int


class CircuitBreaker:
    """Closed -> open after ``failures`` consecutive failed calls; after ``cooldown`` seconds one trial call
    is let through (half-open): success closes the circuit, failure opens it for another cooldown."""

    def __init__(self, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._threshold = failures
        self._cooldown = cooldown
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None and self._clock() - self._opened_at < self._cooldown

    def allow(self) -> bool:
        return not self.is_open

    def record_success(self) -> None:
        self._consecutive = 0
        self._opened_at = None

    def record_failure(self) -> None:
        self._consecutive += 1
        if self._consecutive >= self._threshold or self._opened_at is not None:
            self._opened_at = self._clock()


class ChatClient:
    """One endpoint: ``base_url`` + ``/chat/completions`` with an optional bearer key."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None,
        timeout: float,
        max_retries: int,
        backoff: float,
        breaker: CircuitBreaker,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.model = model
        self.breaker = breaker
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._max_retries = max_retries
        self._backoff = backoff
        self._sleep = sleep
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(timeout=timeout, headers=headers, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def complete(
        self, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any], max_tokens: int
    ) -> ChatAnswer:
        """A JSON object conforming to ``schema``, or ModelCallError after retries (and a breaker failure)."""
        if not self.breaker.allow():
            raise ModelCallError("CIRCUIT_OPEN")
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": max_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "strict": True, "schema": schema},
            },
        }
        try:
            answer = self._with_retries(body)
        except ModelCallError as exc:
            was_open = self.breaker.is_open
            self.breaker.record_failure()
            if self.breaker.is_open and not was_open:  # the operator's one line per outage, not one per call
                log.warning("model endpoint %s: circuit open after %s; calls skipped for a while", self._url, exc.code)
            raise
        self.breaker.record_success()
        return answer

    def _with_retries(self, body: dict[str, Any]) -> ChatAnswer:
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = self._http.post(self._url, json=body)
            except httpx.TimeoutException:
                error = ModelCallError("TIMEOUT", attempt)
            except httpx.TransportError:
                error = ModelCallError("CONNECT", attempt)
            else:
                if response.status_code == 200:
                    return _parse(response, attempt)
                error = ModelCallError(f"HTTP_{response.status_code}", attempt)
                if response.status_code not in _RETRYABLE_STATUS:
                    raise error
                retry_after = _retry_after(response)
            if attempt > self._max_retries:
                raise error
            delay = self._backoff * 2 ** (attempt - 1)
            self._sleep(max(delay, retry_after or 0.0))


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return min(float(response.headers.get("retry-after", "")), _MAX_RETRY_AFTER_SECONDS)
    except ValueError:
        return None


def _parse(response: httpx.Response, attempt: int) -> ChatAnswer:
    """The JSON object in choices[0].message.content; anything else is MALFORMED (not retried: a model
    that answered garbage once at temperature 0 will do so again)."""
    try:
        payload = response.json()
        content = json.loads(payload["choices"][0]["message"]["content"])
        usage = payload.get("usage") or {}
        tokens_in = int(usage.get("prompt_tokens", 0))
        tokens_out = int(usage.get("completion_tokens", 0))
    except (ValueError, KeyError, IndexError, TypeError):
        raise ModelCallError("MALFORMED", attempt) from None
    if not isinstance(content, dict):
        raise ModelCallError("MALFORMED", attempt)
    return ChatAnswer(content=content, tokens_in=tokens_in, tokens_out=tokens_out, attempts=attempt)
