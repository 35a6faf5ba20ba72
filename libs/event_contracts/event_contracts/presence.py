"""Presence between services: who has a chat open (written by chat, read by notifications).

Not an event: entries live in Redis with a short TTL (service_kit.presence, contracts/presence.md).
Both sides build the key here, so they cannot drift apart.
"""


def chat_presence_prefix(namespace: str) -> str:
    return f"{namespace}:presence:chat:"


def chat_presence_topic(chat_id: int, user_id: int) -> str:
    """Present while ``user_id`` has a socket open on ``chat_id`` (on any device)."""
    return f"{chat_id}:{user_id}"
