"""Telegram's `parse_mode=HTML` as the fake Bot API applies it: tags become message entities
(offsets and lengths in UTF-16 code units, as the Bot API counts), entities are decoded, and a
malformed text is refused with Telegram's "can't parse entities" wording and UTF-8 byte offsets.

Stricter than Telegram on one point, on purpose: a bare `&` that starts no entity is refused
(Telegram keeps it literally), so an unescaped user string is caught before it ever contains `<`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_TAG_NAME = re.compile(r"[a-zA-Z0-9-]*")
_ATTR = re.compile(r"""\s*([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""")
_VALUELESS_ATTR = re.compile(r"\s*([a-zA-Z-]+)(?=[\s>])")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; `str(error)` is the detail after "can't parse"."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what Telegram counts for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(slots=True)
class _Open:
    tag: str
    attrs: dict[str, str]
    start: int
    byte_offset: int
    language: str | None = field(default=None)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, i: int) -> tuple[str, int]:
    match = _ENTITY.match(text, i)
    if match is None:
        raise EntityParseError(
            f'Unsupported HTML entity or unescaped "&" at byte offset {_byte_offset(text, i)}'
        )
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in _NAMED:
            raise EntityParseError(
                f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(text, i)}'
            )
        return _NAMED[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise EntityParseError(f"Invalid character code at byte offset {_byte_offset(text, i)}")
    return chr(code), match.end()


def _parse_attrs(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        if text[i] == ">":
            return attrs, i + 1
        match = _ATTR.match(text, i)
        if match is not None:
            name = match.group(1).lower()
            quoted = match.group(2) if match.group(2) is not None else match.group(3)
            raw = quoted if quoted is not None else match.group(4)
            attrs[name] = parse_html(raw)[0] if "&" in raw else raw
            i = match.end()
            continue
        bare = _VALUELESS_ATTR.match(text, i)
        if bare is not None:
            attrs[bare.group(1).lower()] = ""
            i = bare.end()
            continue
        raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')


def _entity(frame: _Open, end: int) -> dict[str, Any] | None:
    kind = ENTITY_TYPES[frame.tag]
    entity: dict[str, Any] = {"type": kind, "offset": frame.start, "length": end - frame.start}
    if kind == "text_link":
        href = frame.attrs.get("href", "")
        if not href:
            return None
        entity["url"] = href
    elif kind == "pre" and frame.language:
        entity["language"] = frame.language
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = frame.attrs["emoji-id"]
    elif kind == "blockquote" and "expandable" in frame.attrs:
        entity["type"] = "expandable_blockquote"
    return entity if entity["length"] > 0 else None


def _check_start(frame: _Open, stack: list[_Open]) -> None:
    if frame.tag == "span" and frame.attrs.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {frame.byte_offset}'
        )
    if frame.tag == "tg-emoji" and not frame.attrs.get("emoji-id", "").isdigit():
        raise EntityParseError(
            f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {frame.byte_offset}'
        )
    language = frame.attrs.get("class", "")
    if frame.tag == "code" and language.startswith("language-") and stack:
        parent = stack[-1]
        if parent.tag == "pre":
            parent.language = language.removeprefix("language-")


def _close(text: str, i: int, stack: list[_Open], pos: int, out: list[dict[str, Any]]) -> int:
    begin = _byte_offset(text, i)
    end = text.find(">", i)
    if end == -1:
        raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
    name = text[i + 2 : end].strip().lower()
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
    frame = stack.pop()
    if name != frame.tag:
        raise EntityParseError(
            f'Unmatched end tag at byte offset {begin}, expected "</{frame.tag}>", '
            f'found "</{name}>"'
        )
    nested_language = frame.tag == "code" and stack and stack[-1].tag == "pre"
    entity = None if nested_language and stack[-1].language else _entity(frame, pos)
    if entity is not None:
        out.append(entity)
    return end + 1


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of a `parse_mode=HTML` text, or EntityParseError.

    Entities come sorted by offset, outer before inner, empty ones dropped (as Telegram does).
    """
    pieces: list[str] = []
    pos = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            decoded, i = _decode_entity(text, i)
            pieces.append(decoded)
            pos += utf16_len(decoded)
        elif char == "<" and text.startswith("</", i):
            i = _close(text, i, stack, pos, entities)
        elif char == "<":
            begin = _byte_offset(text, i)
            name_match = _TAG_NAME.match(text, i + 1)
            assert name_match is not None  # the pattern also matches the empty string
            tag = name_match.group(0).lower()
            if tag not in ENTITY_TYPES:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            attrs, i = _parse_attrs(text, name_match.end(), tag, begin)
            frame = _Open(tag, attrs, pos, begin)
            _check_start(frame, stack)
            stack.append(frame)
        else:
            pieces.append(char)
            pos += utf16_len(char)
            i += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(pieces), entities
