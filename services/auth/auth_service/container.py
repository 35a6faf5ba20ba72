"""Builds the auth service's long-lived objects once per process, from settings."""

import asyncio
import logging
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from auth_service.domain.accounts import Accounts, CodePolicy
from auth_service.domain.sms import ConsoleSmsProvider, SmsProvider, SmsRuProvider
from auth_service.domain.throttle import CodeSendThrottle, SendLimits
from auth_service.domain.tokens import TokenIssuer, load_private_key, load_public_key
from auth_service.events.handlers import event_handlers
from auth_service.models import outbox, processed_events
from auth_service.settings import AuthSettings, SmsProviderName
from service_kit.runtime import ServiceRuntime
from service_kit.security import KeySet
from service_kit.uploads import MediaStore

logger = logging.getLogger(__name__)


def sms_provider(settings: AuthSettings) -> SmsProvider:
    if settings.sms_provider is SmsProviderName.CONSOLE:
        return ConsoleSmsProvider()
    assert settings.smsru_api_id is not None  # the settings refuse smsru without a key
    return SmsRuProvider(settings.smsru_api_id.get_secret_value(), settings.smsru_base_url, settings.smsru_sender)


@dataclass
class AuthContainer:
    settings: AuthSettings
    runtime: ServiceRuntime
    issuer: TokenIssuer
    media: MediaStore
    accounts: Accounts

    @classmethod
    def build(cls, settings: AuthSettings) -> "AuthContainer":
        issuer = TokenIssuer(
            load_private_key(settings.jwt_private_key_path),
            [load_public_key(path) for path in settings.jwt_previous_public_key_paths],
            ttl_seconds=settings.access_token_minutes * 60,
        )
        # Auth verifies its own tokens with the keys it holds, not through its JWKS endpoint.
        runtime = ServiceRuntime(settings, outbox=outbox, processed_events=processed_events, keys=KeySet(issuer.jwks))
        media = MediaStore(settings.media_dir, settings.media_url_prefix)
        accounts = Accounts(
            policy=CodePolicy(
                secret=settings.code_hmac_secret.get_secret_value(),
                ttl_seconds=settings.code_ttl_seconds,
                max_failed_attempts=settings.code_max_failed_attempts,
                default_region=settings.phone_default_region,
                allowed_regions=frozenset(settings.phone_allowed_regions),
            ),
            outbox=runtime.outbox,
            throttle=CodeSendThrottle(
                runtime.redis,
                settings.namespace,
                SendLimits(
                    cooldown_seconds=settings.code_resend_cooldown_seconds,
                    daily_cap_per_phone=settings.code_daily_cap_per_phone,
                    daily_cap_per_ip=settings.code_daily_cap_per_ip,
                ),
            ),
            sms=sms_provider(settings),
            issuer=issuer,
            media=media,
            revocations=runtime.revocation_feed,
        )
        runtime.consume(event_handlers())
        return cls(settings=settings, runtime=runtime, issuer=issuer, media=media, accounts=accounts)

    async def load_revocations(self) -> None:
        """PostgreSQL is the truth; the in-memory list and Redis's copy are rebuilt from it."""
        async with self.runtime.database.read_session() as session:
            revoked = await self.accounts.revoked_user_ids(session)
        self.runtime.revocations.add(*revoked)
        try:
            await self.runtime.revocation_feed.add_all(revoked)
        except RedisError:
            logger.warning("cannot copy revocations to Redis now; will retry")

    async def keep_redis_revocations_seeded(self, every_seconds: float = 60.0) -> None:
        """Redis keeps nothing on disk: re-copy the list so a restarted Redis is whole again."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.load_revocations()
            except SQLAlchemyError:
                logger.warning("cannot read revocations from PostgreSQL now; will retry")
