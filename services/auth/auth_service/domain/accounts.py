"""Account use cases: register, codes, tokens, profile changes, deletion.

Every change and its event go into the caller's unit of work (outbox), which
commits them together; SMS, Redis and file side effects run after the commit
(or undo themselves after a rollback), so a failure there never half-writes.
Register, reset, activate and token answer alike for unknown phones.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.domain.codes import code_hmac, code_matches, new_code
from auth_service.domain.contacts import forget_user
from auth_service.domain.phones import normalize_phone
from auth_service.domain.sms import SmsProvider
from auth_service.domain.throttle import CodeSendThrottle
from auth_service.domain.tokens import TokenIssuer
from auth_service.events.published import user_profile
from auth_service.models import ActivationCode, RevokedUser, User
from event_contracts.users import UserActivated, UserDeleted, UserRegistered, UserUpdated
from marketplace_rules.vocabulary import Role
from service_kit.db import CommittedRefusal, UnitOfWork
from service_kit.events.outbox import Outbox
from service_kit.security import Principal, RevocationFeed
from service_kit.uploads import CleanFile, MediaStore

logger = logging.getLogger(__name__)

BAD_CREDENTIALS = "Invalid phone or activation code"


class BadCredentials(CommittedRefusal):
    """Unknown phone, wrong, expired or dead code: deliberately indistinguishable.

    The failed attempt it counts (or the dead code it removes) is kept.
    """


class NotYourAccount(Exception):
    pass


class UserGone(Exception):
    pass


@dataclass(frozen=True)
class CodePolicy:
    secret: str
    ttl_seconds: int
    max_failed_attempts: int
    default_region: str
    allowed_regions: frozenset[str]


@dataclass(frozen=True)
class ProfileFiles:
    avatar: CleanFile | None = None
    licenses: CleanFile | None = None


class Accounts:
    def __init__(
        self,
        *,
        policy: CodePolicy,
        outbox: Outbox,
        throttle: CodeSendThrottle,
        sms: SmsProvider,
        issuer: TokenIssuer,
        media: MediaStore,
        revocations: RevocationFeed,
    ) -> None:
        self._policy = policy
        self._outbox = outbox
        self._throttle = throttle
        self._sms = sms
        self._issuer = issuer
        self._media = media
        self._revocations = revocations

    def phone(self, raw: str) -> str:
        return normalize_phone(raw, self._policy.default_region, self._policy.allowed_regions)

    async def register(
        self, work: UnitOfWork, raw_phone: str, first_name: str, last_name: str, role: Role, client_ip: str
    ) -> str:
        """Creates the user (an existing one only gets a new code) and sends a code."""
        session = work.session
        phone = self.phone(raw_phone)
        await self._throttle.claim(phone, client_ip)
        user = await self._user_by_phone(work, phone)
        if user is None:
            user = User(phone=phone, first_name=first_name, last_name=last_name, role=role.value, is_active=False)
            session.add(user)
            await session.flush()
            await self._outbox.add(session, user_profile(UserRegistered, user, self._media))
        return await self._store_and_send_code(work, user)

    async def send_new_code(self, work: UnitOfWork, raw_phone: str, client_ip: str) -> str | None:
        phone = self.phone(raw_phone)
        await self._throttle.claim(phone, client_ip)
        user = await self._user_by_phone(work, phone)
        if user is None:
            return None
        return await self._store_and_send_code(work, user)

    async def activate(self, work: UnitOfWork, raw_phone: str, code: str) -> None:
        user = await self._check_code(work, raw_phone, code, consume=False)
        await self._mark_active(work, user)

    async def issue_token(self, work: UnitOfWork, raw_phone: str, code: str) -> str:
        """Consumes the code; a valid code also proves the phone, so it activates too."""
        user = await self._check_code(work, raw_phone, code, consume=True)
        await self._mark_active(work, user)
        return self._issuer.issue(user.id, user.role)

    async def get(self, session: AsyncSession, user_id: int) -> User:
        user = await session.get(User, user_id)
        if user is None:
            raise UserGone
        return user

    async def update(
        self,
        work: UnitOfWork,
        principal: Principal,
        raw_phone: str,
        changes: dict[str, object],
        files: ProfileFiles,
    ) -> User:
        user = await self._own_account(work, principal, raw_phone)
        for field, value in changes.items():
            setattr(user, field, value)
        replaced: list[str | None] = []
        stored: list[str] = []
        work.after_rollback(lambda: self._delete_files(stored))
        if files.avatar is not None:
            stored.append(self._media.save(files.avatar))
            replaced.append(user.avatar)
            user.avatar = stored[-1]
        if files.licenses is not None:
            stored.append(self._media.save(files.licenses))
            replaced.append(user.licenses)
            user.licenses = stored[-1]
        user.updated_at = datetime.now(UTC)
        await work.session.flush()
        await self._outbox.add(work.session, user_profile(UserUpdated, user, self._media))
        work.after_commit(lambda: self._delete_files(replaced))
        return user

    async def delete(self, work: UnitOfWork, principal: Principal, raw_phone: str) -> None:
        session = work.session
        user = await self._own_account(work, principal, raw_phone)
        user_id, files = user.id, [user.avatar, user.licenses]
        await session.delete(user)
        await forget_user(session, user_id)
        await session.execute(insert(RevokedUser).values(user_id=user_id, reason="deleted").on_conflict_do_nothing())
        await self._outbox.add(session, UserDeleted(user_id=user_id))

        async def revoke_now() -> None:
            try:
                await self._revocations.publish(user_id)
            except Exception:
                # The user.deleted event reaches every verifier anyway; this was the fast path.
                logger.warning("revocation fast path failed", exc_info=True)
            await self._delete_files(files)

        work.after_commit(revoke_now)

    async def list_users(self, session: AsyncSession, skip: int, limit: int) -> list[User]:
        # Only activated accounts: a registration nobody confirmed is not a user yet.
        result = await session.scalars(
            select(User).where(User.is_active.is_(True)).order_by(User.id).offset(skip).limit(limit)
        )
        return list(result)

    async def revoked_user_ids(self, session: AsyncSession) -> list[int]:
        return list(await session.scalars(select(RevokedUser.user_id)))

    async def _delete_files(self, names: Sequence[str | None]) -> None:
        for name in names:
            self._media.delete(name)

    async def _own_account(self, work: UnitOfWork, principal: Principal, raw_phone: str) -> User:
        """The caller's row, locked: a concurrent update and delete of one account queue up."""
        phone = self.phone(raw_phone)
        user = await work.session.get(User, principal.user_id, with_for_update=True)
        if user is None:
            raise UserGone
        if user.phone != phone:
            raise NotYourAccount
        return user

    async def _user_by_phone(self, work: UnitOfWork, phone: str) -> User | None:
        return await work.session.scalar(select(User).where(User.phone == phone))

    async def _store_and_send_code(self, work: UnitOfWork, user: User) -> str:
        code = new_code()
        values = {
            "code_hmac": code_hmac(self._policy.secret, user.id, code),
            "expires_at": func.now() + timedelta(seconds=self._policy.ttl_seconds),
            "failed_attempts": 0,
        }
        await work.session.execute(
            insert(ActivationCode)
            .values(user_id=user.id, **values)
            .on_conflict_do_update(index_elements=[ActivationCode.user_id], set_=values)
        )
        phone = user.phone
        # Sent once the code is stored for sure; a failed send is the request's answer (503).
        work.after_commit(lambda: self._sms.send(phone, f"Код подтверждения: {code}"))
        return code

    async def _check_code(self, work: UnitOfWork, raw_phone: str, code: str, *, consume: bool) -> User:
        session = work.session
        phone = self.phone(raw_phone)
        row = (
            await session.execute(
                select(User, ActivationCode)
                .join(ActivationCode, ActivationCode.user_id == User.id)
                .where(User.phone == phone)
                .with_for_update(of=ActivationCode)
            )
        ).first()
        if row is None:
            raise BadCredentials
        user, stored = row
        if stored.expires_at <= datetime.now(UTC):
            await session.delete(stored)
            raise BadCredentials
        if not code_matches(self._policy.secret, user.id, code, stored.code_hmac):
            stored.failed_attempts += 1
            if stored.failed_attempts >= self._policy.max_failed_attempts:
                await session.delete(stored)  # the code is dead; a new one must be requested
            raise BadCredentials
        if consume:
            await session.execute(delete(ActivationCode).where(ActivationCode.user_id == user.id))
        return user

    async def _mark_active(self, work: UnitOfWork, user: User) -> None:
        if not user.is_active:
            user.is_active = True
            await self._outbox.add(work.session, UserActivated(user_id=user.id))
