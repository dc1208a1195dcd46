"""Posts as HTML: plain text with a small markdown subset, everything else escaped (pure).

The subset: paragraphs (blank line), line breaks, ``- `` lists, ``**bold**``, ``*emphasis*``,
```code``` and links ``[text](https://…)`` (http and https only, opened without referrer). Raw HTML
in a post is never interpreted: the whole text is escaped first, and only the markup above adds tags.
"""

from __future__ import annotations

import html
import re

_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_LINK = re.compile(r"\[([^\]\n]{1,300})\]\((https?://[^\s()<>*]{1,1000})\)")
_ITEM = re.compile(r"^[-*] +(.*)$")


def render_markup(text: str) -> str:
    """The HTML of a post's ``text`` (safe to insert into a page as it is)."""
    blocks = re.split(r"\n\s*\n", text.strip())
    return "".join(_block(block) for block in blocks if block.strip())


def _block(block: str) -> str:
    lines = block.split("\n")
    items = [_ITEM.match(line.strip()) for line in lines]
    if all(items):
        return "<ul>" + "".join(f"<li>{_inline(m.group(1))}</li>" for m in items if m) + "</ul>"
    return "<p>" + "<br>".join(_inline(line) for line in lines) + "</p>"


def _inline(line: str) -> str:
    # Code spans keep their content literally; the rest gets links and emphasis.
    parts = _CODE.split(line)
    out: list[str] = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(f"<code>{html.escape(part)}</code>")
        else:
            out.append(_styled(part))
    return "".join(out)


def _styled(text: str) -> str:
    escaped = html.escape(text)
    escaped = _LINK.sub(
        lambda m: f'<a href="{m.group(2)}" rel="nofollow noopener noreferrer">{m.group(1)}</a>', escaped
    )
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _EMPHASIS.sub(r"<em>\1</em>", escaped)
