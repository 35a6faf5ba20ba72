"""Events the chat service publishes and the ones it consumes."""
