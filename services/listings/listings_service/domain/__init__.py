"""Listing use cases, independent of HTTP."""
