"""One message in, one passive reply out; slow work is queued and its result pushed later.

Commands (帮助, 我的工单, 工单 <编号>) are answered at once. Anything else is stored in the
event inbox under the message's id — WeCom's retries and concurrent copies find the same
row, so one message makes at most one order — and the workers route it: a report becomes an
order, a policy question gets its answer; the result goes out through the channel's push.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from copilot.bot import replies
from copilot.bot.commands import parse_command
from copilot.bot.messages import Incoming
from copilot.bot.pending import PendingAttachments
from copilot.dispositions.inbox import EventIn, InboxConflict
from copilot.error_messages import message_zh
from copilot.work_orders.errors import OrderNotFound
from copilot.work_orders.permissions import NotAllowed

if TYPE_CHECKING:
    from copilot.services import Services
    from copilot.users.store import UserOut

log = logging.getLogger(__name__)


class Conversation:
    def __init__(
        self,
        services: Services,
        max_chars: int = 2000,
        notify: Callable[[], None] | None = None,
    ) -> None:
        self.services = services
        self.max_chars = max_chars
        self.notify = notify or (lambda: None)
        self.pending = PendingAttachments(services.orders.engine)  # type: ignore[attr-defined]

    def handle(self, msg: Incoming) -> str:
        """The passive reply to ``msg`` (the same for every retry of it)."""
        user = self.services.bot_user(msg.channel, msg.sender)
        if user is None:
            log.info("bot %s: unknown sender refused", msg.channel)
            return replies.UNKNOWN_SENDER
        if msg.kind == "event":  # opened the app, followed it: show what it does
            return replies.HELP
        if msg.kind in ("image", "location") and msg.attachment is not None:
            self.pending.hold(msg.channel, msg.sender, msg.key, msg.attachment)
            return replies.held(msg.kind, msg.attachment.label)
        if msg.kind != "text":
            return replies.UNSUPPORTED
        text = _clean(msg.text)
        if not text:
            return replies.EMPTY
        cmd = parse_command(text)
        if cmd.kind == "help":
            return replies.HELP
        if cmd.kind == "mine":
            orders = self.services.reported_by(user)
            return replies.orders_list(orders, self.services.event_type_name)
        if cmd.kind == "order":
            try:
                order = self.services.order_for(user, cmd.ref or "")
            except OrderNotFound as exc:
                return message_zh(exc)
            return replies.order_status(order, self.services.event_type_name)
        return self._submit(user, msg, text)

    def _submit(self, user: UserOut, msg: Incoming, text: str) -> str:
        cut = None
        if len(text) > self.max_chars:
            text, cut = text[: self.max_chars], self.max_chars
        held = self.pending.peek(msg.channel, msg.sender)
        event = EventIn(
            text=text,
            reporter_grid=user.jurisdiction,
            idempotency_key=msg.key,
            attachments=[a for _, a in held],
        )
        reply_to = msg.reply_to.model_dump() if msg.reply_to else None
        try:
            row, new = self.services.enqueue_for(user, event, reply_to)
        except (NotAllowed, InboxConflict) as exc:
            return message_zh(exc)
        if new:
            if held:
                self.pending.drop([i for i, _ in held])
            self.notify()
        log.info(
            "bot %s: event %s %s (user %s)",
            msg.channel,
            row.id,
            "queued" if new else "retry",
            user.id,
        )
        return replies.ack(msg.reply_to is not None, cut)


def _clean(text: str) -> str:
    """Control characters out (NUL and friends), line breaks kept, ends trimmed."""
    return "".join(ch for ch in text if ch >= " " or ch in "\n\t").strip()
