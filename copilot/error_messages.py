"""Domain failures as every face reports them: a status and the Chinese message an official
reads (the API's error body, the UI's notices and the bot's replies use the one table)."""

from __future__ import annotations

from copilot.dispositions.inbox import InboxConflict
from copilot.dispositions.service import NotPending
from copilot.users.store import UserError
from copilot.work_orders.errors import (
    EditNotAllowed,
    IdempotencyKeyReused,
    IllegalTransition,
    OrderNotFound,
    VersionConflict,
)
from copilot.work_orders.permissions import NotAllowed, NotAnApprover, ReadOnlyRole, UseApproval

# exception type → (status, code, Chinese message)
DOMAIN_ERRORS: dict[type[Exception], tuple[int, str, str]] = {
    OrderNotFound: (404, "not_found", "未找到该工单，或不在您的辖区内"),
    VersionConflict: (409, "version_conflict", "工单已被他人修改，请刷新后重试"),
    IllegalTransition: (409, "illegal_transition", "工单当前状态不允许此操作"),
    EditNotAllowed: (409, "edit_not_allowed", "工单当前状态不允许修改内容"),
    IdempotencyKeyReused: (409, "idempotency_conflict", "该幂等键已用于另一事件"),
    InboxConflict: (409, "idempotency_conflict", "该幂等键已用于另一事件"),
    NotPending: (409, "not_pending", "该工单不在待审批状态"),
    UserError: (400, "bad_request", "用户信息有误"),
    # Subclasses before NotAllowed: ``message_zh`` takes the first match.
    ReadOnlyRole: (403, "forbidden", "评测账号只能查看"),
    NotAnApprover: (403, "forbidden", "您的角色不能审批工单"),
    NotAllowed: (403, "forbidden", "您的角色无权执行此操作"),
    UseApproval: (409, "use_dispositions", "待审批工单请通过审批接口处理"),
}
UNEXPECTED_ZH = "服务内部错误，请稍后再试"


def message_zh(exc: BaseException) -> str:
    """The Chinese message for a failure (the generic one for anything unexpected)."""
    for exc_type, (_, _, message) in DOMAIN_ERRORS.items():
        if isinstance(exc, exc_type):
            return message
    return UNEXPECTED_ZH
