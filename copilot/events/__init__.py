"""Events: classification, routing and the models they share."""
