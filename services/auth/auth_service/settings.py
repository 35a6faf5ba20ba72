"""Auth service settings, from the environment (see deploy/local.env for development values)."""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator

from service_kit.settings import ServiceSettings

_PLACEHOLDERS = {"", "change-me", "changeme", "secret", "development-only-secret"}


class SmsProviderName(StrEnum):
    CONSOLE = "console"
    SMSRU = "smsru"


class VerifierSettings(ServiceSettings):
    """The forward-auth verifier: public keys only, no secrets of the auth API."""

    service_name: str = "auth-verifier"

    jwt_public_key_path: Path
    # Public keys of retired signing keys, still published so unexpired tokens keep working.
    jwt_previous_public_key_paths: list[Path] = Field(default_factory=list)


class AuthSettings(VerifierSettings):
    service_name: str = "auth"

    jwt_private_key_path: Path
    access_token_minutes: int = Field(default=24 * 60, ge=1, le=30 * 24 * 60)

    code_hmac_secret: SecretStr
    code_ttl_seconds: int = 600
    code_max_failed_attempts: int = 5
    code_resend_cooldown_seconds: int = 60
    code_daily_cap_per_phone: int = 10
    code_daily_cap_per_ip: int = 50
    phone_default_region: str = "RU"
    # Countries whose numbers may register (SMS costs money: no world-wide pumping).
    phone_allowed_regions: list[str] = Field(default_factory=lambda: ["RU", "KZ", "BY"])

    sms_provider: SmsProviderName = SmsProviderName.CONSOLE
    smsru_api_id: SecretStr | None = None
    smsru_base_url: str = "https://sms.ru"
    smsru_sender: str | None = None

    media_dir: Path = Path("var/media/auth")
    media_url_prefix: str = "/media/auth"
    max_image_bytes: int = 5 * 1024 * 1024
    # Avatars and license photos: 12 MP is plenty, and bounds decoding memory and time.
    max_image_pixels: int = 12_000_000
    users_list_max_limit: int = 100

    @model_validator(mode="after")
    def _providers_are_real(self) -> Self:
        if self.sms_provider is SmsProviderName.SMSRU and (
            self.smsru_api_id is None or self.smsru_api_id.get_secret_value() in _PLACEHOLDERS
        ):
            raise ValueError("SMS_PROVIDER=smsru needs a real SMSRU_API_ID")
        if not self.is_production:
            return self
        if self.sms_provider is SmsProviderName.CONSOLE:
            raise ValueError("production refuses the console SMS provider: set SMS_PROVIDER=smsru")
        if self.code_hmac_secret.get_secret_value() in _PLACEHOLDERS or len(self.code_hmac_secret) < 32:
            raise ValueError("production needs a random CODE_HMAC_SECRET of at least 32 characters")
        return self

    @property
    def codes_are_shown(self) -> bool:
        """Only the development console provider lets the API return codes."""
        return self.sms_provider is SmsProviderName.CONSOLE


@lru_cache
def get_verifier_settings() -> VerifierSettings:
    return VerifierSettings.from_environment()


@lru_cache
def get_settings() -> AuthSettings:
    return AuthSettings.from_environment()
