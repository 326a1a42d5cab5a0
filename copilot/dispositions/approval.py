"""What an official sends to decide a pending disposition."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.work_orders.decisions import Decision as Action
from copilot.work_orders.schemas import OrderChanges

__all__ = ["Action", "Approval", "DraftEdits"]


class DraftEdits(BaseModel):
    """Sections of the draft an approver rewrote (edit-and-approve); others stay."""

    model_config = ConfigDict(extra="forbid")

    事件概述: str | None = Field(default=None, min_length=1, max_length=2000)
    处置措施: list[str] | None = Field(default=None, min_length=1, max_length=20)
    责任单位: str | None = Field(default=None, min_length=1, max_length=128)
    协同单位: list[str] | None = None
    办理时限: str | None = Field(default=None, min_length=1, max_length=200)


class Approval(BaseModel):
    """An official's decision; only the approval node of the graph produces one."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    actor: str = Field(min_length=1, max_length=64)
    comment: str | None = Field(default=None, max_length=2000)
    changes: OrderChanges | None = Field(
        default=None, description="Routing or content edits applied with the approval."
    )
    draft: DraftEdits | None = None

    def draft_patch(self) -> dict[str, Any]:
        return self.draft.model_dump(exclude_none=True) if self.draft else {}
