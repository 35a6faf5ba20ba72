"""Listings service."""
