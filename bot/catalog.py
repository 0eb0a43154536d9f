"""The translation catalogs, kept with Babel's Python API: ``python -m bot.catalog [ACTION]``.

* ``extract``: every ``_("...")`` and ``__("...")`` in ``bot/`` into ``locales/messages.pot``;
* ``update``: merge the template into ``locales/<lang>/LC_MESSAGES/messages.po`` (new strings
  arrive empty; English, the source language, is filled with the source text);
* ``compile``: write each ``messages.mo`` (committed: aiogram refuses an uncompiled catalog);
* ``check``: report every empty or fuzzy translation, a placeholder that differs from the
  source, a template that no longer matches the code, or a ``.mo`` that differs from a fresh
  compile (exit status 1 when anything is wrong);
* no action: extract, update, compile, then check.

Output is stable between runs (fixed header dates, no line numbers), so only real changes show
up in a diff.
"""

from __future__ import annotations

import copy
import io
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LOCALES, LOCALES_DIR

SOURCE_DIR = Path(__file__).resolve().parent
SOURCE_LOCALE = "en"
KEYWORDS = {"_": None, "__": None}
STAMP = datetime(2026, 1, 1, tzinfo=UTC)  # fixed header dates keep the files diff-stable
_FIELD = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)[^{}]*\}")
_TAG = re.compile(r"</?([a-zA-Z]+)[^>]*>")


def template_path() -> Path:
    return LOCALES_DIR / f"{DOMAIN}.pot"


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _new_catalog(locale: str | None = None) -> Catalog:
    return Catalog(
        locale=locale,
        domain=DOMAIN,
        project="chattrader",
        version="1",
        copyright_holder="chattrader developers",
        msgid_bugs_address="",
        creation_date=STAMP,
        revision_date=STAMP,
        last_translator="chattrader developers",
        language_team=locale or "",
        fuzzy=False,
    )


def extract() -> Catalog:
    """A template of every translatable string in ``bot/`` (sorted, with file names)."""
    catalog = _new_catalog()
    found = extract_from_dir(str(SOURCE_DIR), method_map=[("**.py", "python")], keywords=KEYWORDS)
    for filename, _lineno, message, comments, context in found:
        path = f"bot/{Path(filename).as_posix()}"
        catalog.add(message, locations=[(path, None)], auto_comments=comments, context=context)
    return catalog


def _write_po(path: Path, catalog: Catalog) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=99, sort_output=True, include_lineno=False, omit_header=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def _read_po(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def write_template() -> Catalog:
    template = extract()
    _write_po(template_path(), template)
    return template


def update(template: Catalog) -> None:
    """Merge ``template`` into every locale's ``.po`` (obsolete strings are dropped)."""
    for locale in LOCALES:
        path = po_path(locale)
        catalog = _read_po(path, locale) if path.exists() else _new_catalog(locale)
        # A copy each: Catalog.update shares the template's Message objects with the catalog.
        catalog.update(
            copy.deepcopy(template), no_fuzzy_matching=True, update_header_comment=False
        )
        catalog.obsolete.clear()
        catalog.revision_date = STAMP
        catalog.creation_date = STAMP
        if locale == SOURCE_LOCALE:
            for message in catalog:
                if message.id:
                    message.string = message.id
                    message.flags.discard("fuzzy")
        _write_po(path, catalog)


def compiled(locale: str) -> bytes:
    """The ``.mo`` bytes of ``locale``'s current ``.po``."""
    buffer = io.BytesIO()
    write_mo(buffer, _read_po(po_path(locale), locale), use_fuzzy=False)
    return buffer.getvalue()


def compile_all() -> None:
    for locale in LOCALES:
        po_path(locale).with_suffix(".mo").write_bytes(compiled(locale))


def problems() -> list[str]:
    """Everything wrong with the catalogs, one line each (empty when all is well)."""
    found: list[str] = []
    code_ids = {m.id for m in extract() if m.id}
    template_ids = {m.id for m in _read_po(template_path()) if m.id}
    if code_ids != template_ids:
        missing = sorted(str(i) for i in code_ids - template_ids)[:5]
        stale = sorted(str(i) for i in template_ids - code_ids)[:5]
        found.append(f"messages.pot is out of date (missing {missing}, stale {stale})")
    for locale in LOCALES:
        catalog = _read_po(po_path(locale), locale)
        ids = {m.id for m in catalog if m.id}
        if ids != code_ids:
            found.append(f"{locale}: catalog does not match the code; run update")
        for message in catalog:
            if not message.id:
                continue
            where = f"{locale}: {str(message.id)[:60]!r}"
            if "fuzzy" in message.flags:
                found.append(f"{where} is fuzzy")
            if not message.string:
                found.append(f"{where} has no translation")
                continue
            source, target = str(message.id), str(message.string)
            if sorted(_FIELD.findall(source)) != sorted(_FIELD.findall(target)):
                found.append(f"{where} has other {{placeholders}} than the source")
            if sorted(_TAG.findall(source)) != sorted(_TAG.findall(target)):
                found.append(f"{where} has other HTML tags than the source")
        mo = po_path(locale).with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled(locale):
            found.append(f"{locale}: messages.mo differs from a fresh compile")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    action = args[0] if args else "all"
    if action not in ("extract", "update", "compile", "check", "all"):
        sys.stderr.write("usage: python -m bot.catalog [extract|update|compile|check]\n")
        return 2
    if action in ("extract", "all"):
        write_template()
    if action in ("update", "all"):
        update(_read_po(template_path()))
    if action in ("compile", "all"):
        compile_all()
    if action in ("check", "all"):
        issues = problems()
        for line in issues:
            sys.stdout.write(f"{line}\n")
        sys.stdout.write(f"{len(issues)} problem(s) in {len(LOCALES)} catalogs\n")
        return 1 if issues else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
