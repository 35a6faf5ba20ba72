"""The kinds of notification, the setting each one obeys, and what became of a notification's push. Pure."""

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    MATCH = "match"  # a listing fits a buyer's request: both the buyer and the seller hear of it
    MESSAGE = "message"  # a chat message while the recipient does not have that chat open
    RESPONSE = "response"  # someone opened a chat with you about your listing or your request
    CONTACT = "contact"  # someone revealed your phone on your listing's card
    NEWS = "news"  # an operator's announcement


class PushStatus(StrEnum):
    """What became of a notification on the push channel (the inbox and the socket always get it)."""

    QUEUED = "queued"  # pushes to the user's devices wait in the push outbox
    SENT = "sent"  # at least one device's provider accepted it
    FAILED = "failed"  # no provider accepted it, after every retry
    OFF = "off"  # the user's setting of this kind is off (then, or by the time it was to be sent)
    COALESCED = "coalesced"  # a message within the window after its chat's last push: the next push counts it
    NO_DEVICES = "no_devices"  # the user has no device a configured provider can reach
    STALE = "stale"  # older than the push age limit when it was decided or due


@dataclass(frozen=True)
class Settings:
    """A user's five notification settings (seed #5), as the last user.* event said; defaults are the account's."""

    all_messages: bool = True
    new_matches: bool = True
    responses: bool = True
    contacts: bool = True
    news: bool = False

    def allows(self, kind: Kind) -> bool:
        return bool(getattr(self, SETTING_OF[kind]))


# The Recipient column (and notifications_<name> user field) each kind obeys.
SETTING_OF: dict[Kind, str] = {
    Kind.MATCH: "new_matches",
    Kind.MESSAGE: "all_messages",
    Kind.RESPONSE: "responses",
    Kind.CONTACT: "contacts",
    Kind.NEWS: "news",
}
