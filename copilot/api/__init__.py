"""The HTTP face: FastAPI over the service layer (``copilot serve``)."""
