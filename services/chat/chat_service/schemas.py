"""Request and response bodies of the chat API."""
