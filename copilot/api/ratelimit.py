"""Per-token rate limits: Redis when configured (shared by every process), else in process.

A fixed one-minute window per token: simple, and exact enough for protecting the service
from a runaway client. The key is a hash of the token, never the token itself.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Protocol


class RateLimiter(Protocol):
    def allow(self, token: str) -> bool:
        """Count one request for ``token``; False when its window is full."""
        ...


def _key(token: str, window: int) -> str:
    return f"copilot:rl:{hashlib.sha256(token.encode()).hexdigest()[:32]}:{window}"


class InProcessLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._counts: dict[str, int] = {}
        self._window = 0
        self._lock = threading.Lock()

    def allow(self, token: str) -> bool:
        window = int(time.time() // 60)
        with self._lock:
            if window != self._window:
                self._counts.clear()
                self._window = window
            key = _key(token, window)
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key] <= self.per_minute


class RedisLimiter:
    def __init__(self, url: str, per_minute: int) -> None:
        import redis

        self.per_minute = per_minute
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5)

    def allow(self, token: str) -> bool:
        key = _key(token, int(time.time() // 60))
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        count, _ = pipe.execute()
        return int(count) <= self.per_minute


def build_limiter(redis_url: str | None, per_minute: int) -> RateLimiter:
    return RedisLimiter(redis_url, per_minute) if redis_url else InProcessLimiter(per_minute)
