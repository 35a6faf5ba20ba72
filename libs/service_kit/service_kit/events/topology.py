"""RabbitMQ topology: one topic exchange, a queue per consuming service, a dead-letter queue."""

import json
from dataclasses import dataclass
from pathlib import Path

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

# A message redelivered this many times goes to the dead-letter queue instead of looping.
DELIVERY_LIMIT = 5

SUBSCRIPTIONS_PATH = Path(__file__).resolve().parents[4] / "contracts" / "subscriptions.json"


def subscriptions(path: Path = SUBSCRIPTIONS_PATH) -> dict[str, list[str]]:
    """Consuming service -> the event types its queue is bound to (contracts/subscriptions.json)."""
    table: dict[str, list[str]] = {
        service: types for service, types in json.loads(path.read_text()).items() if service != "description"
    }
    return table


@dataclass(frozen=True)
class Topology:
    namespace: str

    @property
    def exchange(self) -> str:
        return f"{self.namespace}.events"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.namespace}.dead-letter"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.namespace}.dead-letter"

    def queue(self, consumer: str) -> str:
        return f"{self.namespace}.{consumer}"

    async def declare_exchange(self, channel: AbstractChannel) -> AbstractExchange:
        return await channel.declare_exchange(self.exchange, aio_pika.ExchangeType.TOPIC, durable=True)

    async def declare_dead_letter(self, channel: AbstractChannel) -> None:
        dlx = await channel.declare_exchange(self.dead_letter_exchange, aio_pika.ExchangeType.FANOUT, durable=True)
        dlq = await channel.declare_queue(self.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"})
        await dlq.bind(dlx)

    async def declare_service_queue(
        self, channel: AbstractChannel, consumer: str, event_types: list[str]
    ) -> AbstractQueue:
        """Durable quorum queue bound to each event type; failures beyond the limit dead-letter."""
        exchange = await self.declare_exchange(channel)
        await self.declare_dead_letter(channel)
        queue = await channel.declare_queue(
            self.queue(consumer),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": self.dead_letter_exchange,
            },
        )
        for event_type in event_types:
            await queue.bind(exchange, routing_key=event_type)
        return queue

    async def declare_broadcast_queue(self, channel: AbstractChannel, event_types: list[str]) -> AbstractQueue:
        """Exclusive queue of one process, for in-memory views every replica must keep."""
        exchange = await self.declare_exchange(channel)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for event_type in event_types:
            await queue.bind(exchange, routing_key=event_type)
        return queue


async def declare_all_queues(channel: AbstractChannel, namespace: str) -> None:
    """Every consumer's queue and bindings, before any producer publishes (the set-up step)."""
    topology = Topology(namespace)
    for consumer, event_types in subscriptions().items():
        await topology.declare_service_queue(channel, consumer, event_types)
