"""/v1/documents: list (everyone), upload and ingest in the background, remove (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from copilot.api.deps import AdminDep, ServicesDep, UserDep
from copilot.api.errors import ApiError, not_found
from copilot.ingest_jobs import IngestJob, safe_name
from retrievers.models import DocumentRecord

router = APIRouter(prefix="/v1/documents", tags=["documents"])
MAX_FILES = 100
CHUNK = 1 << 20


@router.get("", response_model=list[DocumentRecord], summary="Documents in the knowledge base")
async def list_documents(services: ServicesDep, _: UserDep) -> list[DocumentRecord]:
    return await run_in_threadpool(services.documents)


@router.post(
    "",
    response_model=IngestJob,
    status_code=202,
    summary="Upload files and ingest them in the background (admin)",
    responses={200: {"model": IngestJob, "description": "With ?wait=true: finished in time."}},
)
async def upload(
    services: ServicesDep,
    user: AdminDep,
    response: Response,
    files: Annotated[list[UploadFile], File(description=".txt .md .docx .pdf .html .csv .xlsx")],
    wait: bool = False,
    timeout: Annotated[float, Query(gt=0, le=300)] = 60.0,
) -> IngestJob:
    if not files or len(files) > MAX_FILES:
        raise ApiError(400, "bad_request", f"一次上传1至{MAX_FILES}个文件", "1..100 files")
    jobs = services.ingest_jobs
    job_id, folder = jobs.folder()
    limit = services.settings.max_file_bytes
    names: list[str] = []
    for upload_file in files:
        name = safe_name(upload_file.filename or "upload")
        while name in names:
            name = "_" + name
        size = 0
        with (folder / name).open("wb") as fh:
            while chunk := await upload_file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ApiError(
                        413, "too_large", f"文件{name}超过大小上限", f"{name} exceeds {limit} bytes"
                    )
                fh.write(chunk)
        names.append(name)
    job = jobs.submit(job_id, folder, names, user.name)
    response.headers["Location"] = f"/v1/documents/jobs/{job_id}"
    if wait:
        job = await run_in_threadpool(jobs.wait, job_id, timeout) or job
    if job.state in ("done", "failed"):
        response.status_code = 200
    return job


@router.get("/jobs/{job_id}", response_model=IngestJob, summary="An ingest job's progress")
async def job(job_id: str, services: ServicesDep, _: AdminDep) -> IngestJob:
    found = services.ingest_jobs.get(job_id)
    if found is None:
        raise not_found("job")
    return found


@router.delete("/{key}", response_model=list[DocumentRecord], summary="Remove a document (admin)")
async def remove(key: str, services: ServicesDep, _: AdminDep) -> list[DocumentRecord]:
    removed = await run_in_threadpool(services.remove_document, key)
    if not removed:
        raise not_found("document")
    return removed
