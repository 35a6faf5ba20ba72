"""Request and response bodies of the listings API."""
