"""Use cases of the requests service: buyer requests, the listings read model, matching."""
