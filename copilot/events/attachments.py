"""Photos and locations sent with a report: kept as references on the order, never the bytes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["image", "location"]
    media_id: str | None = Field(default=None, max_length=256, description="The channel's id")
    url: str | None = Field(default=None, max_length=1024)
    label: str | None = Field(default=None, max_length=200, description="位置 in words")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
