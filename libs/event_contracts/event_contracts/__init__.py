"""The events services exchange: one pydantic model per event type and version.

Producers build their payloads with these models and consumers parse ``data``
into them, so both sides share one shape and its bounds. The JSON Schemas in
contracts/events/ are generated from them (``python -m event_contracts``, run by
``make contracts``). A module per subject; every model in it is found by
``catalogue()``, so adding an event means adding its model and nothing here.
"""

import sys

from service_kit.events.data import EventData, event_models


def catalogue() -> list[type[EventData]]:
    """Every event model of the marketplace, by type and version."""
    return event_models(sys.modules[__name__])
