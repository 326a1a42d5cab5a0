"""Prompt templates are files in this folder: front matter (name, version), then sections.

``[system]`` and ``[user]`` start the two message sections; ``{name}`` placeholders are
filled with ``str.format``-style substitution of named values only, so braces in the
text (JSON examples) need no escaping.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel

PROMPTS_DIR = Path(__file__).resolve().parent
_SECTION = re.compile(r"^\[(system|user)\]\s*$", re.MULTILINE)


class PromptTemplate(BaseModel):
    name: str
    version: str
    system: str
    user: str

    @property
    def ref(self) -> str:
        """What traces record: ``name@version``."""
        return f"{self.name}@{self.version}"

    def render(self, **values: str) -> list[dict[str, str]]:
        """Chat messages with ``{key}`` placeholders replaced by ``values``."""

        # One pass, so a value that itself contains "{evidence}" is never expanded.
        pattern = re.compile("|".join(re.escape("{" + k + "}") for k in values) or "(?!)")

        def fill(text: str) -> str:
            return pattern.sub(lambda m: values[m.group(0)[1:-1]], text)

        return [
            {"role": "system", "content": fill(self.system)},
            {"role": "user", "content": fill(self.user)},
        ]


class PromptError(ValueError):
    pass


@lru_cache(maxsize=32)
def load_prompt(name: str, directory: Path = PROMPTS_DIR) -> PromptTemplate:
    """Load ``<name>.md``; raise :class:`PromptError` when it is missing or malformed."""
    path = directory / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"prompt '{name}' not found in {directory}")
    text = path.read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n(.*)$", text, flags=re.DOTALL)
    if not m:
        raise PromptError(f"prompt '{name}' has no front matter")
    meta = dict(line.split(":", 1) for line in m.group(1).splitlines() if ":" in line)
    parts = _SECTION.split(m.group(2))
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if set(sections) != {"system", "user"}:
        raise PromptError(f"prompt '{name}' needs [system] and [user] sections")
    return PromptTemplate(
        name=meta.get("name", name).strip(),
        version=meta.get("version", "0").strip(),
        system=sections["system"],
        user=sections["user"],
    )
