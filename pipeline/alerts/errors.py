"""Why a Slack call failed, sorted by what the caller must do. Messages carry Slack's error code and our channel
name, never a token or a webhook URL (a webhook URL is itself a secret)."""

from __future__ import annotations


class SlackError(Exception):
    """A Slack call did not succeed. ``reason`` is Slack's error code (``invalid_auth``) or ours (``timeout``,
    ``network``, ``http_503``, ``not_json``). ``outcome_unknown``: the request may have been carried out although we
    got no answer saying so (timeouts, 5xx, ``internal_error``): a post must be looked up before it is sent again."""

    def __init__(self, channel: str, reason: str, *, outcome_unknown: bool = False) -> None:
        super().__init__(f"slack channel {channel!r}: {reason}")
        self.channel = channel
        self.reason = reason
        self.outcome_unknown = outcome_unknown


class RateLimitedError(SlackError):
    """HTTP 429 or ``ratelimited``: nothing was done; wait ``retry_after_s`` (when Slack said) and try again."""

    def __init__(self, channel: str, reason: str, retry_after_s: float | None) -> None:
        super().__init__(channel, reason)
        self.retry_after_s = retry_after_s


class TransientError(SlackError):
    """Slack or the network failed (timeouts, connection errors, 5xx, ``internal_error``): retry with backoff."""


class PermanentError(SlackError):
    """Slack refused the request for what it is (``invalid_auth``, ``channel_not_found``, ``invalid_payload``):
    retrying the same request cannot help until an operator fixes the token or channel. ``payload_problem``: the
    message itself was refused (blocks, size), so a plainer message may go through."""

    def __init__(self, channel: str, reason: str, *, payload_problem: bool = False) -> None:
        super().__init__(channel, reason)
        self.payload_problem = payload_problem
