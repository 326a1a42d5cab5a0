"""Evaluation datasets, metrics and runners; drives the public service layer only."""
