"""Chat service settings, from the environment (see deploy/local.env for development values)."""

from functools import lru_cache

from pydantic import Field

from service_kit.settings import ServiceSettings


class ChatSettings(ServiceSettings):
    service_name: str = "chat"
    # Longest message text, in characters.
    message_max_length: int = Field(default=4000, ge=1, le=100_000)
    # Frames one user may send (all sockets together) per window; beyond it the socket closes with 4029.
    message_rate_limit: int = Field(default=20, ge=1)
    message_rate_window_seconds: int = Field(default=10, ge=1)
    # Frames waiting for one socket; a client that lets more pile up is disconnected.
    socket_queue_size: int = Field(default=256, ge=8)
    # Messages replayed on reconnect with ?after=; a bigger gap is paged through REST.
    replay_limit: int = Field(default=300, ge=1)
    # How often an open socket re-checks its token: expired or revoked closes it with 4001.
    socket_token_check_seconds: float = Field(default=30.0, gt=0, le=3600)
    # An open socket's presence on its chat (contracts/presence.md) lives this long unless refreshed (every third).
    presence_ttl_seconds: float = Field(default=30.0, ge=1, le=600)
    # Pause before the fan-out subscriber reconnects to Redis after losing it.
    fanout_reconnect_seconds: float = Field(default=1.0, gt=0, le=60)


@lru_cache
def get_settings() -> ChatSettings:
    return ChatSettings.from_environment()
