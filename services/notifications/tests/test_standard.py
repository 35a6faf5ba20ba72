"""The checks every service passes: health, readiness, metrics, docs, key checks, API contract."""

from service_kit.testing import StandardServiceChecks


class TestStandard(StandardServiceChecks):
    service = "notifications"
