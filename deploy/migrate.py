"""One-off migration step of the container stacks: every service's ``alembic upgrade head``.

    python deploy/migrate.py [service ...]      # default: auth listings requests chat

Each service's database URL comes from <SERVICE>_DATABASE_URL. Runs in the
``migrate`` image (deploy/migrate.Dockerfile): compose runs it before the
services start, Kubernetes as the Job in deploy/k8s/migrate-job.yaml. Only the
standard library, so it needs nothing beyond the services' own packages.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("auth", "listings", "requests", "chat")


def main(services: list[str]) -> int:
    unknown = [name for name in services if name not in SERVICES]
    if unknown:
        print(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}", file=sys.stderr)
        return 2
    variables = [f"{name.upper()}_DATABASE_URL" for name in services]
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(SERVICES)))
