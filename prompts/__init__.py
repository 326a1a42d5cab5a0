"""Prompt templates as versioned files, loaded by name (roadmap [B])."""
