"""Events the requests service publishes and the ones it consumes."""
