"""Health, readiness, divisions and indicators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import text

from copilot.api.deps import ServicesDep, UserDep
from copilot.api.errors import ApiError, not_found
from copilot.indicators.store import IndicatorValue
from copilot.users.scope import can_see_division

router = APIRouter(tags=["meta"])


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


class DivisionOut(BaseModel):
    code: str
    name: str
    level: str
    tier: str
    parent_code: str | None
    children: list[dict[str, str]]


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="Ready to serve: database and index reachable",
    responses={503: {"description": "Not ready"}},
)
async def readyz(services: ServicesDep) -> Health:
    def check() -> dict[str, str]:
        checks = {}
        with services.orders.engine.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["documents"] = str(len(services.documents()))
        return checks

    try:
        checks = await run_in_threadpool(check)
    except Exception as exc:
        raise ApiError(503, "not_ready", "服务尚未就绪", f"{type(exc).__name__}") from exc
    return Health(status="ok", checks=checks)


@router.get("/v1/divisions/{code}", response_model=DivisionOut, tags=["data"])
async def division(code: str, services: ServicesDep, _: UserDep) -> DivisionOut:
    """A division with its children (the hierarchy is public within the service)."""
    h = services.hierarchy
    node = h.get(code)
    if node is None:
        raise not_found("division")
    children = h.children.get(code, [])
    return DivisionOut(
        code=node.code,
        name=node.name,
        level=node.level,
        tier=node.tier,
        parent_code=node.parent_code,
        children=[
            {"code": c.code, "name": c.name, "level": c.level}
            for c in (h.get(x) for x in children[:500])
            if c is not None
        ],
    )


@router.get("/v1/indicators", response_model=list[IndicatorValue], tags=["data"])
async def indicators(
    services: ServicesDep,
    user: UserDep,
    region: Annotated[str, Query(pattern=r"^\d+$", max_length=24, examples=["500103"])],
    indicator: Annotated[str | None, Query(max_length=64)] = None,
    children: bool = False,
) -> list[IndicatorValue]:
    """A region's indicator values (or its child units'), within your jurisdiction."""
    if not can_see_division(user, region, services.hierarchy):
        raise not_found("region")
    store = services.indicators
    names = [indicator] if indicator else [d.key for d in store.library.indicators]
    out: list[IndicatorValue] = []
    for name in names:
        if children:
            out += store.children(name, region)
        elif (v := store.get(name, region)) is not None:
            out.append(v)
    return out
