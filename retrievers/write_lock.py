"""One writer per index directory across processes (CLI, API server, workers)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class WriteLock:
    """An exclusive ``flock`` on ``<index>/write.lock``, re-entrant within one holder.

    The catalogue is SQLite and copes with several writers, but the vector store and the
    staging of a file in flight do not: a repair that ran while another process was
    between its vector write and its catalogue commit would take that process's fresh
    vectors for orphans.
    """

    def __init__(self, index_dir: Path) -> None:
        self._path = index_dir / "write.lock"
        self._fd: int | None = None
        self._depth = 0

    def acquire(self, blocking: bool = True) -> bool:
        if self._depth:
            self._depth += 1
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd, self._depth = fd, 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
