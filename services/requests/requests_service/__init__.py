"""Requests service."""
