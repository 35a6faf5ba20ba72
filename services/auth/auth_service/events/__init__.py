"""Events the auth service publishes and the ones it follows."""
