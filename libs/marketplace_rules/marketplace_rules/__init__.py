"""Marketplace rules every service applies the same way, written once.

Pure functions and pydantic-friendly types, no I/O: places (cities and districts),
money (RUB conversion and the rate table), text (what the database can store),
vocabulary (enumerated fields, rooms, roles). Plumbing lives in service_kit instead.
"""
