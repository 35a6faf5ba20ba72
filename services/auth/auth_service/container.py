"""Builds the auth service's long-lived objects once per process, from settings."""

from dataclasses import dataclass

from redis.asyncio import Redis

from auth_service.domain.accounts import Accounts, CodePolicy
from auth_service.domain.sms import ConsoleSmsProvider, SmsProvider, SmsRuProvider
from auth_service.domain.throttle import CodeSendThrottle, SendLimits
from auth_service.domain.tokens import TokenIssuer, load_private_key, load_public_key
from auth_service.models import outbox
from auth_service.settings import AuthSettings, SmsProviderName
from service_kit.db import Database
from service_kit.events.outbox import Outbox
from service_kit.events.relay import OutboxRelay
from service_kit.events.topology import Topology
from service_kit.security import KeySet, RevocationFeed, RevocationList, TokenVerifier
from service_kit.uploads import MediaStore


def sms_provider(settings: AuthSettings) -> SmsProvider:
    if settings.sms_provider is SmsProviderName.CONSOLE:
        return ConsoleSmsProvider()
    assert settings.smsru_api_id is not None  # the settings refuse smsru without a key
    return SmsRuProvider(settings.smsru_api_id.get_secret_value(), settings.smsru_base_url, settings.smsru_sender)


@dataclass
class AuthContainer:
    settings: AuthSettings
    database: Database
    redis: Redis
    issuer: TokenIssuer
    verifier: TokenVerifier
    revocation_feed: RevocationFeed
    media: MediaStore
    accounts: Accounts
    relay: OutboxRelay

    @classmethod
    def build(cls, settings: AuthSettings) -> "AuthContainer":
        database = Database(settings.database_url)
        redis = Redis.from_url(settings.redis_url)
        issuer = TokenIssuer(
            load_private_key(settings.jwt_private_key_path),
            [load_public_key(path) for path in settings.jwt_previous_public_key_paths],
            ttl_seconds=settings.access_token_minutes * 60,
        )
        revocations = RevocationList()
        feed = RevocationFeed(redis, settings.namespace, revocations)
        media = MediaStore(settings.media_dir, settings.media_url_prefix)
        topology = Topology(settings.namespace)
        accounts = Accounts(
            policy=CodePolicy(
                secret=settings.code_hmac_secret.get_secret_value(),
                ttl_seconds=settings.code_ttl_seconds,
                max_failed_attempts=settings.code_max_failed_attempts,
                default_region=settings.phone_default_region,
            ),
            outbox=Outbox(outbox, producer="auth"),
            throttle=CodeSendThrottle(
                redis,
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
            revocations=feed,
        )
        return cls(
            settings=settings,
            database=database,
            redis=redis,
            issuer=issuer,
            verifier=TokenVerifier(KeySet(issuer.jwks), revocations),
            revocation_feed=feed,
            media=media,
            accounts=accounts,
            relay=OutboxRelay(
                database, outbox, settings.rabbitmq_url, topology, poll_seconds=settings.outbox_poll_seconds
            ),
        )

    async def close(self) -> None:
        await self.redis.aclose()
        await self.database.dispose()
