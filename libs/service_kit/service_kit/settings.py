"""Settings every service shares; each service subclasses ``ServiceSettings``."""

import os
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ServiceSettings(BaseSettings):
    """Infrastructure addresses and switches; read from the environment only."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    # Production unless told otherwise: a forgotten variable must not switch on development shortcuts.
    environment: Environment = Environment.PRODUCTION
    service_name: str
    database_url: str
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Prefix of every exchange, queue and Redis key, so test runs never meet each other.
    namespace: str = "marketplace"
    # Where services fetch the auth service's public signing keys.
    jwks_url: str = "http://127.0.0.1:8101/.well-known/jwks.json"
    log_level: str = "INFO"
    log_json: bool = True
    outbox_poll_seconds: float = Field(default=2.0, gt=0)
    event_prefetch: int = Field(default=100, ge=1, le=1000)

    @classmethod
    def from_environment(cls) -> Self:
        """Environment variables, plus one file per secret in $SECRETS_DIR (e.g. /run/secrets)."""
        return cls(_secrets_dir=os.environ.get("SECRETS_DIR") or None)

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @model_validator(mode="after")
    def _production_needs_real_infrastructure(self) -> Self:
        if self.is_production and "guest:guest@" in self.rabbitmq_url:
            raise ValueError("production refuses RabbitMQ's default guest credentials")
        return self
