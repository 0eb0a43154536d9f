"""Cutting an HTML reply into Telegram-sized messages.

Telegram takes at most 4096 characters of text per message, counted in UTF-16 code units
after entity parsing. The raw HTML is never shorter than what it shows, so parts whose raw
HTML fits are safe. Parts are cut at line ends; a single line longer than the limit is cut
between tags and entities, closing the tags still open at the cut and reopening them after.
"""

from __future__ import annotations

import re

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_TOKEN = re.compile(r"<[^>]*>|&[#a-zA-Z0-9]+;|.", re.DOTALL)
_TAG = re.compile(r"<(/?)([a-zA-Z0-9-]+)")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (emoji and other astral characters count 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Non-blank parts of ``text``, each at most ``limit`` UTF-16 units, joined by the line
    breaks they were cut at; tags are balanced in every part when they were in ``text``."""
    if limit < 64:
        msg = f"limit must leave room for tags, got {limit}"
        raise ValueError(msg)
    parts: list[str] = []
    lines: list[str] = []
    size = 0
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            extra = utf16_len(piece) + (1 if lines else 0)
            if lines and size + extra > limit:
                parts.append("\n".join(lines))
                lines, size, extra = [], 0, utf16_len(piece)
            lines.append(piece)
            size += extra
    if lines:
        parts.append("\n".join(lines))
    return [part for part in parts if part.strip()]


def _cut_line(line: str, limit: int) -> list[str]:
    if utf16_len(line) <= limit:
        return [line]
    chunks: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag name, opening tag) still open
    current = ""
    # Invariant: current plus the closing tags of ``stack`` fits in ``limit``.
    for token in _TOKEN.findall(line):
        after = _apply(stack, token)
        if current and utf16_len(current + token + _closing(after)) > limit:
            chunks.append(current + _closing(stack))
            current = "".join(tag for _, tag in stack)
        current += token
        stack = after
    if current:
        chunks.append(current)
    return chunks


def _apply(stack: list[tuple[str, str]], token: str) -> list[tuple[str, str]]:
    match = _TAG.match(token)
    if match is None:
        return stack
    name = match.group(2).lower()
    if match.group(1) == "/":
        return stack[:-1] if stack and stack[-1][0] == name else stack
    return [*stack, (name, token)]


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))
