"""Decode bytes of unknown encoding: UTF-8 first, then GB18030 (a superset of GBK/GB2312)."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we accept."""


def looks_binary(data: bytes) -> bool:
    """A NUL byte in the first 8 KiB, or mostly control characters, means not text."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return len(head) > 0 and controls / len(head) > 0.1


def decode_text(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)``; raise :class:`UndecodableError` for binary or garbage."""
    if looks_binary(data):
        raise UndecodableError("binary content (NUL or control bytes)")
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    for bom, enc in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Chinese government files are very often GBK; GB18030 decodes all of GBK and GB2312.
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise UndecodableError("unknown text encoding")
    return str(best), best.encoding
