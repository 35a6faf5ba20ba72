"""Events auth follows: only user.deleted, into each verifier's in-memory revocation list."""

from service_kit.events.consumer import MemoryHandler
from service_kit.events.envelope import EventEnvelope
from service_kit.security import RevocationList


def revocation_handlers(revocations: RevocationList) -> dict[str, MemoryHandler]:
    async def on_user_deleted(event: EventEnvelope) -> None:
        revocations.add(int(event.data["user_id"]))

    return {"user.deleted": on_user_deleted}
