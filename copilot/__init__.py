"""Digital Chongqing governance copilot."""

__version__ = "0.1.0"
