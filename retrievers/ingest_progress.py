"""Progress of one ingest run: files, chunks, chunks per second and time left."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from retrievers.models import IngestProgress

ProgressFn = Callable[[IngestProgress], None]
"""Called with a snapshot as work is done (at most a few times per second while embedding)."""


class ProgressTracker:
    """Counts what an ingest has done; the time left comes from input bytes per second.

    Bytes, not chunks, because a streamed table's chunk count is unknown until its end;
    a file's share of the bytes advances with what its reader has consumed.
    """

    MIN_INTERVAL_S = 0.25

    def __init__(self, callback: ProgressFn | None) -> None:
        self._callback = callback
        self._started = time.perf_counter()
        self._last_sent = 0.0
        self.files_total = 0
        self.files_done = 0
        self.chunks_done = 0
        self._bytes_total = 0
        self._bytes_done = 0
        self._current: Path | None = None
        self._current_size = 0
        self._position: Callable[[], float] = lambda: 0.0

    def scanning(self, files: int) -> None:
        self.files_total = files
        self._send("scan", force=True)

    def begin(self, sizes: list[int]) -> None:
        self.files_total = len(sizes)
        self._bytes_total = sum(sizes)
        self._started = time.perf_counter()
        self._send("ingest", force=True)

    def file_started(self, path: Path, size: int, position: Callable[[], float]) -> None:
        self._current, self._current_size, self._position = path, size, position
        self._send("ingest")

    def file_done(self) -> None:
        self.files_done += 1
        self._bytes_done += self._current_size
        self._current, self._current_size, self._position = None, 0, lambda: 0.0
        self._send("ingest", force=True)

    def tick(self) -> None:
        """Reading goes on (a snapshot at most every ``MIN_INTERVAL_S``)."""
        self._send("ingest")

    def embedded(self, n: int) -> None:
        self.chunks_done += n
        self._send("ingest")

    def stage(self, stage: str) -> None:
        self._send(stage, force=True)

    def fraction(self) -> float:
        if not self._bytes_total:
            return 1.0 if self.files_done >= self.files_total else 0.0
        inside = self._current_size * min(max(self._position(), 0.0), 1.0)
        return min((self._bytes_done + inside) / self._bytes_total, 1.0)

    def snapshot(self, stage: str) -> IngestProgress:
        elapsed = max(time.perf_counter() - self._started, 1e-6)
        frac = self.fraction()
        eta = elapsed * (1 - frac) / frac if 0 < frac < 1 else (0.0 if frac >= 1 else None)
        return IngestProgress(
            stage=stage,  # type: ignore[arg-type]
            files_done=self.files_done,
            files_total=self.files_total,
            chunks_done=self.chunks_done,
            chunks_per_s=round(self.chunks_done / elapsed, 2),
            fraction=round(frac, 4),
            eta_s=None if eta is None else round(eta, 1),
            current=str(self._current) if self._current else None,
        )

    def _send(self, stage: str, force: bool = False) -> None:
        if self._callback is None:
            return
        now = time.perf_counter()
        if not force and now - self._last_sent < self.MIN_INTERVAL_S:
            return
        self._last_sent = now
        self._callback(self.snapshot(stage))
