"""Payloads of the events auth publishes (models: event_contracts.users)."""

from typing import TypeVar

from auth_service.models import User
from event_contracts.users import UserProfile
from marketplace_rules.vocabulary import Role
from service_kit.uploads import MediaStore

Profile = TypeVar("Profile", bound=UserProfile)


def user_profile(event: type[Profile], user: User, media: MediaStore) -> Profile:
    """Data of user.registered and user.updated: what other services show of a user, and their notification settings."""
    return event(
        user_id=user.id,
        phone=user.phone,
        first_name=user.first_name,
        last_name=user.last_name,
        middle_name=user.middle_name,
        role=Role(user.role),
        city=user.city,
        avatar_url=media.url(user.avatar),
        is_active=user.is_active,
        notifications_all_messages=user.notifications_all_messages,
        notifications_new_matches=user.notifications_new_matches,
        notifications_responses=user.notifications_responses,
        notifications_contacts=user.notifications_contacts,
        notifications_news=user.notifications_news,
    )
