"""Cited answers: extractive without an LLM, model-written and checked with one, or a refusal."""
