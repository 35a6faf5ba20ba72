# syntax=docker/dockerfile:1
# The one-off migration step: every service's Alembic migrations in one image.
# Build from the repository root:
#   docker build -f deploy/migrate.Dockerfile -t marketplace/migrate .
# Run with AUTH_DATABASE_URL, LISTINGS_DATABASE_URL, REQUESTS_DATABASE_URL, CHAT_DATABASE_URL.
# Built from the same commit as the service images, so schema and code match.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/constraints.txt requirements/runtime.txt /tmp/requirements/
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install -c /tmp/requirements/constraints.txt -r /tmp/requirements/runtime.txt

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY contracts/ contracts/
COPY libs/service_kit/service_kit/ libs/service_kit/service_kit/
COPY libs/marketplace_rules/marketplace_rules/ libs/marketplace_rules/marketplace_rules/
COPY libs/event_contracts/event_contracts/ libs/event_contracts/event_contracts/
COPY services/auth/alembic.ini services/auth/
COPY services/auth/auth_service/ services/auth/auth_service/
COPY services/listings/alembic.ini services/listings/
COPY services/listings/listings_service/ services/listings/listings_service/
COPY services/requests/alembic.ini services/requests/
COPY services/requests/requests_service/ services/requests/requests_service/
COPY services/chat/alembic.ini services/chat/
COPY services/chat/chat_service/ services/chat/chat_service/
COPY deploy/migrate.py deploy/migrate.py
RUN python -m compileall -q libs services deploy
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app/libs/service_kit:/app/libs/marketplace_rules:/app/libs/event_contracts:/app/services/auth:/app/services/listings:/app/services/requests:/app/services/chat \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
CMD ["python", "deploy/migrate.py"]
