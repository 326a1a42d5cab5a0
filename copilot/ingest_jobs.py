"""Background ingest jobs: an admin uploads files, the API answers at once, a worker ingests.

One job runs at a time (ingests are serialised anyway); searches go on meanwhile. Progress
(stage, done, total, chunks/s) is kept per job in this process — a job belongs to the
process that accepted its files.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from retrievers.knowledge_base import KnowledgeBase
from retrievers.models import IngestProgress, IngestReport

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed"]
KEEP_JOBS = 200


class JobProgress(BaseModel):
    """The job's last progress snapshot (files, chunks, chunks/s, time left)."""

    stage: str = "queued"
    files_done: int = 0
    files_total: int = 0
    chunks_done: int = 0
    chunks_per_s: float = 0.0
    fraction: float = 0.0
    eta_s: float | None = None


class IngestJob(BaseModel):
    job_id: str
    state: JobState = "queued"
    files: list[str]
    progress: JobProgress = Field(default_factory=JobProgress)
    report: IngestReport | None = None
    error: str | None = None
    submitted_by: str
    created_at: datetime
    finished_at: datetime | None = None


def safe_name(filename: str) -> str:
    """A file name that cannot leave its folder: the base name, no control characters."""
    base = Path(filename.replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f/]", "", base).strip(" .")
    return base[:200] or "upload"


class IngestJobs:
    def __init__(self, kb: KnowledgeBase, upload_root: Path) -> None:
        self.kb = kb
        self.upload_root = upload_root
        self._jobs: dict[str, IngestJob] = {}
        self._order: deque[str] = deque()
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, Path]] = deque()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ingest-jobs", daemon=True)
        self._thread.start()

    def folder(self) -> tuple[str, Path]:
        """A fresh upload folder for one job."""
        job_id = uuid.uuid4().hex[:16]
        folder = self.upload_root / job_id
        folder.mkdir(parents=True, exist_ok=True)
        return job_id, folder

    def submit(self, job_id: str, folder: Path, files: list[str], actor: str) -> IngestJob:
        job = IngestJob(
            job_id=job_id, files=files, submitted_by=actor, created_at=datetime.now(UTC)
        )
        with self._lock:
            self._jobs[job_id] = job
            self._order.append(job_id)
            while len(self._order) > KEEP_JOBS:
                self._jobs.pop(self._order.popleft(), None)
            self._queue.append((job_id, folder))
        self._wake.set()
        return job

    def get(self, job_id: str) -> IngestJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.model_copy(deep=True) if job else None

    def wait(self, job_id: str, timeout: float) -> IngestJob | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(job_id)
            if job is None or job.state in ("done", "failed"):
                return job
            time.sleep(0.05)
        return self.get(job_id)

    def _loop(self) -> None:
        while True:
            self._wake.wait(1.0)
            self._wake.clear()
            while True:
                with self._lock:
                    if not self._queue:
                        break
                    job_id, folder = self._queue.popleft()
                self._run(job_id, folder)

    def _run(self, job_id: str, folder: Path) -> None:
        job = self._jobs[job_id]
        job.state = "running"

        def progress(p: IngestProgress) -> None:
            job.progress = JobProgress(**p.model_dump(exclude={"current"}))

        try:
            job.report = self.kb.ingest([folder], progress=progress)
            job.state = "done"
        except Exception as exc:  # the job records it; the worker takes the next job
            log.exception("ingest job %s failed", job_id)
            job.error, job.state = f"{type(exc).__name__}: {exc}", "failed"
        job.finished_at = datetime.now(UTC)
