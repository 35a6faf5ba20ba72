"""Payloads of the events auth publishes (schemas: contracts/events/user.*.json)."""

from typing import Any

from auth_service.models import User
from service_kit.uploads import MediaStore


def user_profile(user: User, media: MediaStore) -> dict[str, Any]:
    """Data of user.registered and user.updated: what other services show of a user."""
    return {
        "user_id": user.id,
        "phone": user.phone,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "middle_name": user.middle_name,
        "role": user.role,
        "city": user.city,
        "avatar_url": media.url(user.avatar),
        "is_active": user.is_active,
    }


def user_deleted(user_id: int) -> dict[str, Any]:
    return {"user_id": user_id}
