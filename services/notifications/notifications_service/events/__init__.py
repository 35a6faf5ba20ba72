"""Events the notifications service consumes."""
