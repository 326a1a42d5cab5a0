"""The messaging bot for grid staff: WeCom callback and a signed webhook (docs/bot.md)."""
