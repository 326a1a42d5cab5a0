"""The Gradio web UI for officials, mounted in the FastAPI app (roadmap [F])."""
