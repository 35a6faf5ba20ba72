"""Plumbing shared by every service: settings, logging, database, events, security.

No business rules live here; a service composes these pieces in its own app factory.
"""
