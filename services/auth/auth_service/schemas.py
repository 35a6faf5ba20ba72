"""Request and response bodies of the auth API (shapes follow the seed)."""

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from marketplace_rules.text import Text
from marketplace_rules.vocabulary import Role, parse_role

Name = Annotated[str, Text(100, min_length=1)]
PhoneText = Annotated[str, Text(32, min_length=1)]
CodeText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}$")]


class UserRegister(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {"phone": "+79197777779", "first_name": "Иван", "last_name": "Иванов", "role": "realtor"}
        }
    )

    phone: PhoneText
    first_name: Name
    last_name: Name
    role: Annotated[Role, BeforeValidator(parse_role)] = Field(
        description="user, realtor, developer or agency (or the Russian label)"
    )


class PhoneAndCode(BaseModel):
    phone: PhoneText
    activation_code: CodeText


class PhoneOnly(BaseModel):
    phone: PhoneText


class Message(BaseModel):
    message: str


class MessageWithCode(Message):
    code: str | None = Field(default=None, description="Only with the development console SMS provider")


class AccessToken(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserPublic(BaseModel):
    """In GET /users/list, another user's contacts (phone, email, whatsapp, telegram, viber, zoom, licenses)
    are shown only when the two share a chat: otherwise the phone is masked and the others are null."""

    id: int
    phone: str
    first_name: str
    last_name: str
    middle_name: str | None
    role: str = Field(description="Russian label, as in the seed")
    role_code: Role
    is_active: bool
    sex: str | None
    city: str | None
    email: str | None
    user_type: str | None
    whatsapp: str | None
    telegram: str | None
    viber: str | None
    zoom: str | None
    prop_city: str | None
    prop_offer: str | None
    prop_type: str | None
    prop_state: str | None
    about: str | None
    notifications_all_messages: bool
    notifications_new_matches: bool
    notifications_responses: bool
    notifications_contacts: bool
    notifications_news: bool
    avatar: str | None = Field(description="URL of the profile photo")
    licenses: str | None = Field(description="URL of the licence scan")
    avatar_url: str | None = Field(deprecated="Use `avatar`", description="Same as `avatar`")
    licenses_url: str | None = Field(deprecated="Use `licenses`", description="Same as `licenses`")


class UserUpdated(BaseModel):
    message: str
    user: UserPublic


class ProfileForm(BaseModel):
    """Fields of seed #5; absent fields stay as they are. Limits follow the columns."""

    phone: PhoneText
    first_name: Name | None = None
    last_name: Name | None = None
    middle_name: Annotated[str, Text(100)] | None = None
    sex: Annotated[str, Text(20)] | None = None
    city: Annotated[str, Text(100)] | None = None
    email: Annotated[str, Text(254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    user_type: Annotated[str, Text(50)] | None = None
    whatsapp: Annotated[str, Text(100)] | None = None
    telegram: Annotated[str, Text(100)] | None = None
    viber: Annotated[str, Text(100)] | None = None
    zoom: Annotated[str, Text(100)] | None = None
    prop_city: Annotated[str, Text(100)] | None = None
    prop_offer: Annotated[str, Text(100)] | None = None
    prop_type: Annotated[str, Text(100)] | None = None
    prop_state: Annotated[str, Text(100)] | None = None
    about: Annotated[str, Text(5000)] | None = None
    notifications_all_messages: bool | None = None
    notifications_new_matches: bool | None = None
    notifications_responses: bool | None = None
    notifications_contacts: bool | None = None
    notifications_news: bool | None = None
