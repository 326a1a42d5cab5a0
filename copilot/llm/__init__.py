"""LLM backends behind one protocol: none (extractive), openai-compatible, llama.cpp."""
