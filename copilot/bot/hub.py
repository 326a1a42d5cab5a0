"""The bot's channels and conversation, built once from the settings (in the app's lifespan),
and the follow-up that pushes a queued message's result to its sender."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from copilot.bot import replies
from copilot.bot.channel import BotChannel
from copilot.bot.commands import asks_question
from copilot.bot.conversation import Conversation

if TYPE_CHECKING:
    from copilot.services import Services

log = logging.getLogger(__name__)


class BotHub:
    def __init__(
        self, services: Services, channels: dict[str, BotChannel], conversation: Conversation
    ) -> None:
        self.services, self.channels, self.conversation = services, channels, conversation

    def channel(self, name: str) -> BotChannel | None:
        return self.channels.get(name)

    def work(self, event: Any) -> dict[str, Any]:
        """Work one inbox event (every worker's handler): its disposition, and the result
        pushed to the sender when the event came from the bot."""
        result = self.services.dispose_queued(event)
        self.follow_up(event.text, event.reply_to, result)
        return result

    def follow_up(self, text: str, reply_to: dict[str, Any] | None, result: dict[str, Any]) -> None:
        """Push a queued message's result to its sender (``DeliveryError`` → the inbox retries
        the event; routing it again returns the same order)."""
        if not reply_to:
            return
        channel = self.channels.get(str(reply_to.get("channel")))
        if channel is None:
            log.warning("bot: no %s channel configured; result not pushed", reply_to.get("channel"))
            return
        channel.push(str(reply_to["to"]), self.result_text(text, result))
        log.info("bot %s: result pushed", channel.name)

    def result_text(self, text: str, result: dict[str, Any]) -> str:
        """A consultation gets its policy answer; a report, its order (or why there is none),
        and the policy answer too when it ends with a question ("…这种行为罚多少钱？")."""
        if not result.get("order_id") and result.get("message_type") == "咨询":
            return replies.answer(self.services.ask(text))
        reply = replies.disposition(result, self.services.event_type_name)
        if result.get("order_id") and asks_question(text):
            answer = self.services.ask(text)
            if not answer.refused and answer.citations:
                reply += "\n\n政策参考：" + replies.answer(answer)
        return reply

    def close(self) -> None:
        for channel in self.channels.values():
            close = getattr(channel, "close", None)
            if close is not None:
                close()


def build_bot(
    services: Services,
    notify: Callable[[], None] | None = None,
) -> BotHub:
    """The channels the settings configure (none: /bot answers 404)."""
    s = services.settings
    channels: dict[str, BotChannel] = {}
    if s.wecom_corp_id and s.wecom_token and s.wecom_aes_key:
        from copilot.bot.wecom import WeComChannel
        from copilot.bot.wecom_client import WeComClient
        from copilot.bot.wecom_crypto import WeComCrypto

        client = None
        if s.wecom_secret and s.wecom_agent_id is not None:
            client = WeComClient(
                s.wecom_api_base,
                s.wecom_corp_id,
                s.wecom_secret.get_secret_value(),
                s.wecom_agent_id,
            )
        crypto = WeComCrypto(
            s.wecom_token.get_secret_value(), s.wecom_aes_key.get_secret_value(), s.wecom_corp_id
        )
        channels["wecom"] = WeComChannel(crypto, s.wecom_corp_id, client, s.bot_replay_window_s)
    if s.webhook_secret:
        from copilot.bot.webhook import WebhookChannel

        channels["webhook"] = WebhookChannel(
            s.webhook_secret.get_secret_value(),
            s.webhook_signature,
            s.webhook_push_url,
            s.webhook_push_hosts,
            s.bot_replay_window_s,
        )
    return BotHub(services, channels, Conversation(services, s.bot_message_chars, notify))
