"""Integration events: envelope, transactional outbox, relay, topology and consumer."""
