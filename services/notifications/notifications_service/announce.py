"""Operators' announcements (kind news) to every user who allows them, from the command line.

    python -m notifications_service.announce --title "..." --body "..." [--role realtor ...] [--batch 500]
    python -m notifications_service.announce --resume 3

Reads the service's own settings from the environment (DATABASE_URL of the
notifications database, REDIS_URL, NAMESPACE, the push providers); ``make
announce TITLE=... BODY=...`` runs it against the local stack. Users are taken
in batches, each in one transaction with the announcement's cursor: an
interrupted run is continued with ``--resume <id>`` and nobody gets it twice.
Live sockets hear of it at once; pushes are sent by the service's push workers
(within their poll interval).
"""

import argparse
import asyncio
import sys
from typing import Annotated

from pydantic import TypeAdapter, ValidationError

from marketplace_rules.text import Text
from marketplace_rules.vocabulary import Role
from notifications_service.container import NotificationsContainer
from notifications_service.settings import get_settings

TITLE: TypeAdapter[str] = TypeAdapter(Annotated[str, Text(120, min_length=1)])
BODY: TypeAdapter[str] = TypeAdapter(Annotated[str, Text(2000, min_length=1)])


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m notifications_service.announce", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--title", help="up to 120 characters")
    parser.add_argument("--body", help="up to 2000 characters")
    parser.add_argument("--role", action="append", choices=[role.value for role in Role], help="only these roles")
    parser.add_argument("--resume", type=int, metavar="ID", help="continue an interrupted announcement")
    parser.add_argument("--batch", type=int, default=500, help="users per transaction (default 500)")
    parsed = parser.parse_args(argv)
    if parsed.resume is None and (parsed.title is None or parsed.body is None):
        parser.error("--title and --body are required (or --resume ID)")
    if not 1 <= parsed.batch <= 10_000:
        parser.error("--batch must be 1..10000")
    return parsed


async def announce(parsed: argparse.Namespace) -> int:
    container = NotificationsContainer.build(get_settings())
    database = container.runtime.database
    try:
        if parsed.resume is None:
            async with database.unit_of_work() as work:
                announcement_id = await container.notifier.new_announcement(
                    work, TITLE.validate_python(parsed.title), BODY.validate_python(parsed.body), parsed.role
                )
            print(f"announcement {announcement_id} created", flush=True)
        else:
            announcement_id = parsed.resume
        total, finished = 0, False
        while not finished:
            async with database.unit_of_work() as work:
                count, finished = await container.notifier.announce_batch(work, announcement_id, parsed.batch)
            total += count
            print(f"announcement {announcement_id}: {total} users so far", flush=True)
        print(f"announcement {announcement_id} done: {total} users in this run", flush=True)
        return 0
    finally:
        await container.close_providers()
        await container.runtime.redis.aclose()
        await database.dispose()


def main(argv: list[str]) -> int:
    parsed = arguments(argv)
    try:
        return asyncio.run(announce(parsed))
    except ValidationError as error:
        print(f"refused: {error.errors()[0]['msg']}", file=sys.stderr)
        return 2
    except LookupError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
