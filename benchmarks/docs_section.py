"""Write one `## …` section of docs/benchmarks.md, leaving the sections other benchmarks own as they are."""

from __future__ import annotations

from pathlib import Path


def replace_section(docs: Path, heading: str, section: str) -> None:
    """Put `section` (starting with `## heading`) in place of that section, or append it if there is none."""
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    start = text.find(f"\n## {heading}\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start + 1] + section + (text[end + 1:] if end != -1 else "")
    docs.write_text(text)
