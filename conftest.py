"""The kit's fixtures (database, namespace, settings, app, client) for every service's tests.

Each service's tests/conftest.py names its service with a ``service_under_test`` fixture.
"""

pytest_plugins = ["service_kit.testing"]
