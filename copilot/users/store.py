"""Users and tokens: create, list, revoke, and authenticate a bearer token."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from copilot.hierarchy import Hierarchy
from copilot.users.models import ApiToken, User
from copilot.vocabulary import Tier, levels_of
from copilot.work_orders.db import write_engine

TOKEN_PREFIX = "cq_"
# The messaging channels a user can be reached on, and the column holding its sender id.
Channel = Literal["wecom", "webhook"]
_SENDER_COLUMNS = {"wecom": User.wecom_user, "webhook": User.webhook_user}
AUTH_CACHE_S = 10.0
AUTH_CACHE_SIZE = 10_000


class Role(StrEnum):
    """Staff of one tier answer for their division's subtree; evaluators read everything;
    admins also manage documents and users."""

    CITY = "city_staff"
    DISTRICT = "district_staff"
    TOWN = "town_staff"
    VILLAGE = "village_staff"
    GRID = "grid_staff"
    EVALUATOR = "evaluator"
    ADMIN = "admin"


ROLE_ZH: dict[Role, str] = {
    Role.CITY: "市级工作人员",
    Role.DISTRICT: "区县工作人员",
    Role.TOWN: "镇街工作人员",
    Role.VILLAGE: "村社工作人员",
    Role.GRID: "网格员",
    Role.EVALUATOR: "评测人员",
    Role.ADMIN: "管理员",
}

# The tier each staff role works at: its jurisdiction must be a division of that tier.
STAFF_TIERS: dict[Role, Tier] = {
    Role.CITY: "市级",
    Role.DISTRICT: "区县",
    Role.TOWN: "镇街",
    Role.VILLAGE: "村社",
    Role.GRID: "网格",
}
# Chinese names people type for the roles: the tiers, and two more.
ROLE_ALIASES: dict[str, Role] = {
    **{tier: role for role, tier in STAFF_TIERS.items()},
    "评测": Role.EVALUATOR,
    "管理员": Role.ADMIN,
}


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    jurisdiction: str
    wecom_user: str | None = None
    webhook_user: str | None = None
    active: bool
    created_at: datetime


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=64)
    role: Role
    jurisdiction: str = Field(min_length=2, max_length=24, pattern=r"^\d+$")
    wecom_user: str | None = Field(default=None, min_length=1, max_length=64)
    webhook_user: str | None = Field(default=None, min_length=1, max_length=64)


class UserError(ValueError):
    """A user that cannot be created or found; the message is for the operator."""


def parse_role(value: str) -> Role:
    value = value.strip()
    if value in ROLE_ALIASES:
        return ROLE_ALIASES[value]
    try:
        return Role(value)
    except ValueError:
        names = ", ".join([*(r.value for r in Role), *ROLE_ALIASES])
        raise UserError(f"unknown role {value!r}; one of: {names}") from None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserStore:
    """Users in the work-order database (tables from migration 0004)."""

    def __init__(self, engine: Engine, hierarchy: Hierarchy) -> None:
        self.hierarchy = hierarchy
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine(engine), expire_on_commit=False)
        # (kind, …) → (user, expiry): bearer tokens by hash, bot senders by channel and id.
        self._auth_cache: dict[tuple, tuple[UserOut | None, float]] = {}

    def add(self, new: NewUser) -> tuple[UserOut, str]:
        """Create a user and its first token; the token is returned once, never stored."""
        self._check_jurisdiction(new.role, new.jurisdiction)
        now = datetime.now(UTC)
        try:
            with self._write.begin() as s:
                user = User(
                    name=new.name,
                    role=new.role.value,
                    jurisdiction=new.jurisdiction,
                    wecom_user=new.wecom_user,
                    webhook_user=new.webhook_user,
                    active=True,
                    created_at=now,
                )
                s.add(user)
                s.flush()
                token = self._issue(s, user.id, now)
                self._auth_cache.clear()  # its sender ids may have been refused a moment ago
                return UserOut.model_validate(user), token
        except IntegrityError as exc:
            raise UserError(
                f"a user named {new.name!r} (or with that WeCom or webhook id) exists"
            ) from exc

    def new_token(self, ref: str | int) -> str:
        """Another token for an existing user (rotation); earlier ones stay valid."""
        with self._write.begin() as s:
            user = self._find(s, ref)
            return self._issue(s, user.id, datetime.now(UTC))

    def list(self) -> list[UserOut]:
        with self._read() as s:
            return [UserOut.model_validate(u) for u in s.scalars(select(User).order_by(User.id))]

    def get(self, ref: str | int) -> UserOut:
        with self._read() as s:
            return UserOut.model_validate(self._find(s, ref))

    def by_sender(self, channel: Channel, sender: str) -> UserOut | None:
        """The active user a messaging-bot sender id is linked to, or None (remembered for
        ``AUTH_CACHE_S`` like tokens: one read less on every message's acknowledgement)."""
        return self._cached(("sender", channel, sender), lambda: self._by_sender(channel, sender))

    def _by_sender(self, channel: Channel, sender: str) -> UserOut | None:
        column = _SENDER_COLUMNS[channel]
        with self._read() as s:
            user = s.scalar(select(User).where(column == sender, User.active))
            return UserOut.model_validate(user) if user else None

    def link_sender(self, ref: str | int, channel: Channel, sender: str) -> UserOut:
        """Link a messaging-bot sender id (WeCom userid, webhook sender) to a user."""
        try:
            with self._write.begin() as s:
                user = self._find(s, ref)
                setattr(user, _SENDER_COLUMNS[channel].key, sender)
                self._auth_cache.clear()  # a sender refused a moment ago is known now
                return UserOut.model_validate(user)
        except IntegrityError as exc:
            raise UserError(f"{channel} id {sender!r} is linked to another user") from exc

    def revoke(self, ref: str | int) -> UserOut:
        """Disable the user and revoke every token it has."""
        now = datetime.now(UTC)
        with self._write.begin() as s:
            user = self._find(s, ref)
            user.active = False
            for token in s.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
                token.revoked_at = token.revoked_at or now
            self._auth_cache.clear()
            return UserOut.model_validate(user)

    def authenticate(self, token: str) -> UserOut | None:
        """The active user a bearer token belongs to, or None.

        Answers are remembered for ``AUTH_CACHE_S`` seconds (keyed by the token's hash): a
        database round trip per request was most of an acknowledged submission's cost. A
        revocation here clears the memory at once; other processes notice within that time.
        """
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        key = hash_token(token)
        return self._cached(("token", key), lambda: self._authenticate(key))

    def _cached(self, key: tuple, load) -> UserOut | None:
        now = time.monotonic()
        hit = self._auth_cache.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        user = load()
        if len(self._auth_cache) > AUTH_CACHE_SIZE:
            self._auth_cache.clear()
        self._auth_cache[key] = (user, now + AUTH_CACHE_S)
        return user

    def _authenticate(self, token_hash: str) -> UserOut | None:
        with self._read() as s:
            row = s.execute(
                select(User)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(
                    ApiToken.token_hash == token_hash,
                    ApiToken.revoked_at.is_(None),
                    User.active,
                )
            ).scalar_one_or_none()
            return UserOut.model_validate(row) if row else None

    def _issue(self, s, user_id: int, now: datetime) -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        s.add(
            ApiToken(
                user_id=user_id,
                token_hash=hash_token(token),
                prefix=token[: len(TOKEN_PREFIX) + 6],
                created_at=now,
                revoked_at=None,
            )
        )
        return token

    def _find(self, s, ref: str | int) -> User:
        if isinstance(ref, int) or str(ref).isdigit():
            user = s.get(User, int(ref))
        else:
            user = s.scalar(select(User).where(User.name == ref))
        if user is None:
            raise UserError(f"no user {ref!r}")
        return user

    def _check_jurisdiction(self, role: Role, code: str) -> None:
        node = self.hierarchy.get(code)
        if node is None:
            raise UserError(f"unknown division code {code!r}")
        tier = STAFF_TIERS.get(role)
        levels = levels_of(tier) if tier else None
        if levels is not None and node.level not in levels:
            raise UserError(
                f"a {role.value} answers for a {'/'.join(levels)}; {code} is a {node.level}"
            )
