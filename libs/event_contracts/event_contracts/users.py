"""Events of the auth service: users registering, activating, changing and leaving."""

from typing import Annotated

from pydantic import Field

from event_contracts.fields import Id, Url, event_text
from marketplace_rules.vocabulary import Role
from service_kit.events.data import EventData

Name = Annotated[str, event_text(100)]


class UserProfile(EventData):
    """What other services show of a user, and the user's notification settings (seed #5)."""

    producer = "auth"

    user_id: Id
    phone: str = Field(pattern=r"^\+[1-9]\d{6,14}$", description="E.164")
    first_name: Name
    last_name: Name
    middle_name: Name | None = None
    role: Role
    city: Name | None = None
    avatar_url: Url | None = Field(None, description="Gateway path of the avatar")
    is_active: bool
    # The seed's notification settings (#5); defaults are the account's, for events sent before they travelled.
    notifications_all_messages: bool = Field(True, description="Chat messages while the chat is not open")
    notifications_new_matches: bool = Field(True, description="New matches of one's requests or listings")
    notifications_responses: bool = Field(True, description="Someone opened a chat about one's listing or request")
    notifications_contacts: bool = Field(True, description="Someone revealed one's phone on a listing")
    notifications_news: bool = Field(False, description="Announcements of the marketplace")


class UserRegistered(UserProfile):
    """A phone registered; the user is not active until a code is confirmed."""

    event_type = "user.registered"


class UserUpdated(UserProfile):
    """The profile changed (names, city, avatar...): the full public profile."""

    event_type = "user.updated"


class UserActivated(EventData):
    """The user confirmed a code for the first time."""

    event_type = "user.activated"
    producer = "auth"

    user_id: Id


class UserDeleted(EventData):
    """The account is gone; its tokens are revoked. Consumers drop or archive the user's data."""

    event_type = "user.deleted"
    producer = "auth"

    user_id: Id
