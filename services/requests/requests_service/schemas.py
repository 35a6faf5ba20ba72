"""Request and response bodies of the requests API."""
