"""What the requests service does with the events it consumes; one handler per event type."""

from service_kit.events.consumer import EventHandler
from service_kit.runtime import ServiceRuntime


def event_handlers(runtime: ServiceRuntime) -> dict[str, EventHandler]:
    return {"user.deleted": runtime.revoke_on_user_deleted()}
