"""Seed endpoints 1-8 under /users."""

from typing import Annotated

from fastapi import APIRouter, Body, File, Form, Query, UploadFile, status

from auth_service.api.deps import ClientIp, Container, CurrentUser, ReadSession, UnitOfWorkDep
from auth_service.domain.accounts import ProfileFiles
from auth_service.domain.contacts import mask_phone, visible_contacts
from auth_service.models import User
from auth_service.schemas import (
    AccessToken,
    Message,
    MessageWithCode,
    PhoneAndCode,
    PhoneOnly,
    ProfileForm,
    UserPublic,
    UserRegister,
    UserUpdated,
)
from marketplace_rules.vocabulary import ROLE_LABELS, Role
from service_kit.errors import error_responses
from service_kit.uploads import CleanFile, MediaStore, clean_image_in_worker, read_limited

router = APIRouter(prefix="/users", tags=["users"])


def user_public(user: User, media: MediaStore, *, contacts: bool = True) -> UserPublic:
    """The profile; without ``contacts`` (a stranger's view) the phone is masked and the rest of them null."""
    role = Role(user.role)
    licenses = media.url(user.licenses) if contacts else None
    return UserPublic(
        id=user.id,
        phone=user.phone if contacts else mask_phone(user.phone),
        first_name=user.first_name,
        last_name=user.last_name,
        middle_name=user.middle_name,
        role=ROLE_LABELS[role],
        role_code=role,
        is_active=user.is_active,
        sex=user.sex,
        city=user.city,
        email=user.email if contacts else None,
        user_type=user.user_type,
        whatsapp=user.whatsapp if contacts else None,
        telegram=user.telegram if contacts else None,
        viber=user.viber if contacts else None,
        zoom=user.zoom if contacts else None,
        prop_city=user.prop_city,
        prop_offer=user.prop_offer,
        prop_type=user.prop_type,
        prop_state=user.prop_state,
        about=user.about,
        notifications_all_messages=user.notifications_all_messages,
        notifications_new_matches=user.notifications_new_matches,
        notifications_responses=user.notifications_responses,
        notifications_contacts=user.notifications_contacts,
        notifications_news=user.notifications_news,
        avatar=media.url(user.avatar),
        licenses=licenses,
        avatar_url=media.url(user.avatar),
        licenses_url=licenses,
    )


# Every JSON body over 1 MiB is refused by the gateway (413) before it reaches the service.
_JSON_BODY = (status.HTTP_413_CONTENT_TOO_LARGE, "The body is larger than 1 MiB (refused by the gateway)")
_SMS_DOWN = (status.HTTP_503_SERVICE_UNAVAILABLE, "The SMS could not be sent now; try again shortly")
_SEND_LIMIT = (status.HTTP_429_TOO_MANY_REQUESTS, "A code was sent to this phone (or from this address) too recently")
_BAD_CODE = (
    status.HTTP_400_BAD_REQUEST,
    "Unknown phone, or a wrong, expired or used-up code (code `invalid_code`); "
    "or a body that cannot be parsed (code `bad_request`)",
)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model_exclude_none=True,
    responses=error_responses(_JSON_BODY, _SEND_LIMIT, _SMS_DOWN),
)
async def register(body: UserRegister, work: UnitOfWorkDep, container: Container, ip: ClientIp) -> MessageWithCode:
    """Creates the user and sends an activation code by SMS.

    An already registered phone gets a new code and the same answer, so the
    endpoint does not reveal who has an account.
    """
    code = await container.accounts.register(work, body.phone, body.first_name, body.last_name, body.role, ip)
    return MessageWithCode(
        message="User created successfully", code=code if container.settings.codes_are_shown else None
    )


@router.post("/activate", responses=error_responses(_BAD_CODE, _JSON_BODY))
async def activate(body: PhoneAndCode, work: UnitOfWorkDep, container: Container) -> Message:
    """Checks the code without using it up, so the seed's register -> activate -> token flow works."""
    await container.accounts.activate(work, body.phone, body.activation_code)
    return Message(message="User activated successfully")


@router.post("/token", responses=error_responses(_BAD_CODE, _JSON_BODY))
async def token(body: PhoneAndCode, work: UnitOfWorkDep, container: Container) -> AccessToken:
    """Exchanges a code for an access token; the code cannot be used again."""
    access_token = await container.accounts.issue_token(work, body.phone, body.activation_code)
    return AccessToken(access_token=access_token)


@router.post("/reset", response_model_exclude_none=True, responses=error_responses(_JSON_BODY, _SEND_LIMIT, _SMS_DOWN))
async def reset(body: PhoneOnly, work: UnitOfWorkDep, container: Container, ip: ClientIp) -> MessageWithCode:
    """Sends a new code: also how a returning user logs in. Unknown phones get the same answer."""
    code = await container.accounts.send_new_code(work, body.phone, ip)
    return MessageWithCode(message="New activation code set", code=code if container.settings.codes_are_shown else None)


@router.get("/me")
async def me(principal: CurrentUser, session: ReadSession, container: Container) -> UserPublic:
    user = await container.accounts.get(session, principal.user_id)
    return user_public(user, container.media)


@router.put(
    "/update",
    responses=error_responses(
        (status.HTTP_403_FORBIDDEN, "`phone` is not the caller's (code `not_your_account`)"),
        (status.HTTP_413_CONTENT_TOO_LARGE, "A file, or the request, is over its size limit"),
    ),
)
async def update(
    form: Annotated[ProfileForm, Form()],
    principal: CurrentUser,
    work: UnitOfWorkDep,
    container: Container,
    avatar: Annotated[UploadFile | None, File(description="JPEG, PNG or WebP")] = None,
    licenses: Annotated[UploadFile | None, File(description="JPEG, PNG or WebP")] = None,
) -> UserUpdated:
    """Updates the caller's own profile; ``phone`` must be the caller's (403 otherwise)."""
    settings = container.settings

    async def checked(upload: UploadFile | None, field: str) -> CleanFile | None:
        if upload is None:
            return None
        data = await read_limited(upload, settings.max_image_bytes, field)
        return await clean_image_in_worker(data, field, settings.max_image_pixels)

    files = ProfileFiles(avatar=await checked(avatar, "avatar"), licenses=await checked(licenses, "licenses"))
    changes = form.model_dump(exclude={"phone"}, exclude_unset=True)
    user = await container.accounts.update(work, principal, form.phone, changes, files)
    return UserUpdated(message="User updated successfully", user=user_public(user, container.media))


@router.delete(
    "/delete",
    responses=error_responses(
        (status.HTTP_403_FORBIDDEN, "`phone` is not the caller's (code `not_your_account`)"), _JSON_BODY
    ),
)
async def delete(
    body: Annotated[PhoneOnly, Body()], principal: CurrentUser, work: UnitOfWorkDep, container: Container
) -> Message:
    """Deletes the caller's own account; its tokens stop working at once."""
    await container.accounts.delete(work, principal, body.phone)
    return Message(message="User deleted successfully")


@router.get(
    "/list",
    responses=error_responses((status.HTTP_429_TOO_MANY_REQUESTS, "Over the gateway's rate limit for this caller")),
)
async def list_users(
    principal: CurrentUser,
    session: ReadSession,
    container: Container,
    skip: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, description="Capped at the configured maximum (100)")] = 10,
) -> list[UserPublic]:
    """Seed #8: activated users. Phone, e-mail, messenger handles and licence are shown for the caller and
    the users who share a chat with the caller; the others get the phone masked (`+7 919 ***-**-79`) and null.
    """
    capped = min(limit, container.settings.users_list_max_limit)
    users = await container.accounts.list_users(session, skip, capped)
    shown = await visible_contacts(session, principal.user_id, [user.id for user in users])
    return [user_public(user, container.media, contacts=user.id in shown) for user in users]
