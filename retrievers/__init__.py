"""Ingestion, Chinese-aware chunking, embeddings, keyword and vector indexes, hybrid search.

This package knows nothing of the rest of the project: it could be its own library.
"""
