"""Limits on what people type or upload, shared by every face: a question or an event longer
than anyone writes, JSON nested deeper than any real record, a batch line of megabytes."""

from __future__ import annotations

# An official's question: the longest real ones are a few hundred characters.
QUESTION_CHARS = 2_000
# A reported event: a citizen's letter can run to pages (the inbox holds the same limit).
EVENT_CHARS = 20_000
# One line of a JSONL batch: a record with the longest event fits with room to spare.
BATCH_LINE_BYTES = 256 * 1024
JSON_DEPTH = 20


def json_depth(text: str) -> int:
    """How deeply the JSON nests (brackets inside strings do not count); checked before
    parsing so that a hostile input never drives the parser into deep recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest
