"""Auth service: users, activation codes, tokens and signing keys."""
