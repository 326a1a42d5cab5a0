"""JSON log lines for the server: one object per line, request ids, never secrets."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# Fields a record may carry through ``extra=``; anything else (a body, a header) is dropped.
FIELDS = ("request_id", "trace_id", "method", "path", "status", "ms", "event_id", "order_no")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in FIELDS:
            if (value := getattr(record, key, None)) is not None:
                line[key] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, ensure_ascii=False)


def configure_json_logs(level: int = logging.INFO) -> None:
    """Route the app's and uvicorn's loggers to one JSON handler on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # The access log repeats our request line without the request id.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
