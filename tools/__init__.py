"""Agent tools: typed functions with JSON schemas over copilot/ and retrievers/ (roadmap [D])."""
