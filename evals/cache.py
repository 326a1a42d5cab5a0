"""Per-item results of a run, kept in the report folder: a run stopped half-way resumes where
it stopped, and a finished one is re-reported without scoring anything again.

The key is a hash of the suite, the configuration, the case itself and a fingerprint of the
settings that change results, so an edited case or another configuration is scored afresh.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from evals.results import ItemResult

CACHE_FILE = "items.sqlite"


def item_key(suite: str, config: str, case: dict[str, Any], fingerprint: str) -> str:
    blob = json.dumps([suite, config, case, fingerprint], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class ItemCache:
    def __init__(self, folder: Path | None) -> None:
        """``None``: remember nothing (a run without a report folder)."""
        self._db = None
        self._lock = threading.Lock()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(folder / CACHE_FILE, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS items (key TEXT PRIMARY KEY, item TEXT)")

    def get(self, key: str) -> ItemResult | None:
        if self._db is None:
            return None
        with self._lock:
            row = self._db.execute("SELECT item FROM items WHERE key = ?", (key,)).fetchone()
        return ItemResult.model_validate_json(row[0]) if row else None

    def put(self, key: str, item: ItemResult) -> None:
        if self._db is None:
            return
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO items VALUES (?, ?)", (key, item.model_dump_json())
            )
            self._db.commit()  # one item at a time: a kill loses at most the one in flight

    def clear(self) -> None:
        if self._db is not None:
            with self._lock:
                self._db.execute("DELETE FROM items")
                self._db.commit()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
