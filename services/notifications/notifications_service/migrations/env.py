from notifications_service.models import Base
from service_kit.migrations import run_migrations

run_migrations(Base.metadata)
