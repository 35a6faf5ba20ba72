"""``python -m event_contracts``: rewrites contracts/events/*.json from the models (``make contracts``)."""

from event_contracts import catalogue
from service_kit.events.schemas import EVENT_SCHEMAS_DIR, write_event_schemas

for path in write_event_schemas(catalogue()):
    print(f"wrote {path.relative_to(EVENT_SCHEMAS_DIR.parent.parent)}")
