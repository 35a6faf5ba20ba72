"""One-off set-up step of the container stacks: every service's ``alembic upgrade head``,
then every consumer's RabbitMQ queue and bindings (contracts/subscriptions.json), so
no event published before a consumer's first start is lost.

    python deploy/migrate.py [service ...]      # default: auth listings requests chat notifications

Each service's database URL comes from <SERVICE>_DATABASE_URL; the broker from
RABBITMQ_URL and NAMESPACE. Runs in the ``migrate`` image
(deploy/Dockerfile, target migrate): compose runs it before the services start,
Kubernetes as the Job in deploy/k8s/migrate-job.yaml.
"""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aio_pika

from service_kit.events.topology import declare_all_queues

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("auth", "listings", "requests", "chat", "notifications")


def main(services: list[str]) -> int:
    unknown = [name for name in services if name not in SERVICES]
    if unknown:
        print(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}", file=sys.stderr)
        return 2
    variables = [f"{name.upper()}_DATABASE_URL" for name in services] + ["RABBITMQ_URL"]
    missing = [variable for variable in variables if not os.environ.get(variable)]
    if missing:
        print(f"missing environment: {', '.join(missing)}", file=sys.stderr)
        return 2
    for name in services:
        print(f"migrating {name}", flush=True)
        # Each service's env.py reads DATABASE_URL; one process per service keeps their metadata apart.
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [sys.executable, "-m", "alembic", "-c", str(ROOT / "services" / name / "alembic.ini"), "upgrade", "head"],
            env=os.environ | {"DATABASE_URL": os.environ[f"{name.upper()}_DATABASE_URL"]},
            check=False,
        )
        if result.returncode != 0:
            print(f"migrations of {name} failed (exit {result.returncode})", file=sys.stderr)
            return result.returncode
    print("all databases at head", flush=True)
    asyncio.run(declare_queues(os.environ["RABBITMQ_URL"], os.environ.get("NAMESPACE", "marketplace")))
    print("all event queues declared", flush=True)
    return 0


async def declare_queues(rabbitmq_url: str, namespace: str) -> None:
    connection = await aio_pika.connect(rabbitmq_url)
    try:
        await declare_all_queues(await connection.channel(), namespace)
    finally:
        await connection.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(SERVICES)))
