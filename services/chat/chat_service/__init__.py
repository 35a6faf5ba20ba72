"""Chat service."""
