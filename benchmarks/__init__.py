"""`make bench`: the performance suite of issue 11 (see docs/performance.md).

Every row is a ratio measured in one run against a baseline the suite starts
itself: a hello-world app under the services' own uvicorn flags, Traefik in
front of it with and without the gateway's forwardAuth, a bare WebSocket
relay, a plain aio-pika publisher. The services run as `make run` runs them
(the Procfile under honcho, tests/e2e/stack.py), on databases, ports and a
namespace of the run's own.
"""
