"""Decode bytes of unknown encoding: UTF-8 first, then GB18030 (a superset of GBK/GB2312)."""

from __future__ import annotations

import codecs
import re

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


# Longest first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# C0 controls but tab, line feed and carriage return; DEL; C1 controls; stray BOMs.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff]")


def strip_controls(text: str) -> str:
    """``text`` without NUL and other control characters (they would be indexed, printed and
    sent to models as they are)."""
    return _CONTROLS.sub("", text)


def decode_text(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)`` with control characters removed; raise
    :class:`UndecodableError` for binary or garbage."""
    text, encoding = _decode(data)
    return strip_controls(text), encoding


def _decode(data: bytes) -> tuple[str, str]:
    # A byte-order mark names the encoding; UTF-16/32 text is full of NUL bytes, so the
    # binary check comes after it.
    if (enc := bom_encoding(data)) is not None:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as exc:
            raise UndecodableError(f"not valid {enc} after its byte-order mark") from exc
    if looks_binary(data):
        raise UndecodableError("binary content (NUL or control bytes)")
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


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``head`` names, if any."""
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc
    return None


def decode_line(raw: bytes, number: int) -> tuple[str, str]:
    """One line of a text stream: UTF-8, else GB18030 for this line alone.

    Files assembled from several sources mix the two line by line; deciding per file
    would turn every UTF-8 line of such a file into mojibake (or refuse the file).
    """
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise UndecodableError(f"line {number} is neither UTF-8 nor GB18030") from exc
