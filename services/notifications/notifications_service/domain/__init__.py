"""Notification rules, independent of HTTP: who hears of what, on which channel, and the push providers."""
