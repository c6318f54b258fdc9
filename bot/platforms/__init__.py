"""Platform adapters: the only place that may import a messaging library.

Each adapter is one module with the same small surface, and one line in ADAPTERS:

- PLATFORM, TITLE (for log lines), TOKEN_VARIABLE (named when the token is refused),
  LIMITS (core.limits.PlatformLimits: sizes, what it renders, flood rates) and RETRY_ON (the
  errors of an unreachable API, retried with backoff at start);
- configured(settings) -> bool: whether its token (or whatever it needs) is set;
- polls(settings) -> bool: whether it fetches updates by polling, which only one instance
  of several may do at a time (a webhook is served by every instance);
- connect(settings, options): an async context yielding a bot.bridge.Connection (its
  core.chat_client.ChatClient, the bot's identity, how the bridge behaves there);
- receive(settings, connection, bridge, stop, options): poll or serve a webhook, handing
  each update, translated to bot.bridge.Translated, to the ChatBridge, until stop is set.
"""

ADAPTERS = {
    "console": "bot.platforms.console",
    "telegram": "bot.platforms.telegram",
    "zalo": "bot.platforms.zalo",
}
