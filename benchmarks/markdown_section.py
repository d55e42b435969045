"""Replace one ``## Heading`` section of a Markdown file, leaving the rest intact.

Several tools write into the same docs/benchmarks.md; each owns one section.
"""

import re
from pathlib import Path


def replace_section(path: Path, heading: str, body: str) -> None:
    """Make ``## heading`` followed by ``body`` a section of ``path`` (created if missing).

    An existing section (up to the next ``## `` heading or the end) is
    replaced in place; otherwise the section is appended.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        # A function replacement: the body may contain backslashes.
        updated = pattern.sub(lambda _: section + "\n", text, count=1)
        updated = updated.rstrip("\n") + "\n"
    elif text.strip():
        updated = text.rstrip("\n") + "\n\n" + section
    else:
        updated = "# Benchmarks\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated, encoding="utf-8")
