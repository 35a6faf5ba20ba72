"""Events the listings service publishes and the ones it consumes."""
