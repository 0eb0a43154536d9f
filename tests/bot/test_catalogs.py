"""The gettext catalogs are complete and consistent with the code: every string translated in
English, Mongolian and Russian (none empty or fuzzy), the same placeholders and HTML tags as the
source, valid Telegram HTML, the committed .mo files equal a fresh compile, and every command a
router handles has its help entry (and the other way round)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from aiogram.filters import Command
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import catalog, routers
from bot.command_list import COMMANDS, bot_commands
from bot.i18n import LOCALES, LOCALES_DIR, build_i18n, localized
from bot.prefs import NotifyKind
from bot.render import NOTIFY_NAMES, ROLE_NAMES, SIDE_NAMES
from bot.verdicts import BREAKER_NAMES, GATE_NAMES, SESSION_NAMES
from engine.models import Role, Side
from engine.risk import BreakerCode, GateCode, Session
from tests.fakes.telegram_html import parse_html

FIELD = re.compile(r"\{(\w+)\}")


def po(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_is_translated(locale: str) -> None:
    messages = [m for m in po(locale) if m.id]
    assert len(messages) > 200
    assert [m.id for m in messages if not m.string] == []
    assert [m.id for m in messages if "fuzzy" in m.flags] == []
    for m in messages:
        assert sorted(FIELD.findall(m.string)) == sorted(FIELD.findall(m.id)), m.id
        sample = FIELD.sub("x", m.string)
        parse_html(sample)  # Telegram would accept it with parse_mode=HTML
    if locale == "en":
        assert all(m.string == m.id for m in messages)
    else:
        assert sum(m.string != m.id for m in messages) > 0.9 * len(messages)


@pytest.mark.parametrize("locale", LOCALES)
def test_committed_mo_equals_a_fresh_compile(locale: str) -> None:
    buffer = io.BytesIO()
    write_mo(buffer, po(locale), use_fuzzy=False)
    mo = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.mo"
    assert mo.read_bytes() == buffer.getvalue()


def test_template_matches_the_code() -> None:
    assert catalog.problems() == []


def test_the_catalog_tool_reports_a_missing_translation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog, "LOCALES_DIR", tmp_path)
    monkeypatch.setattr(catalog, "LOCALES", ("en", "ru"))
    catalog.update(catalog.write_template())
    catalog.compile_all()
    found = catalog.problems()
    assert found and all(line.startswith("ru: ") for line in found)
    assert any("'Main menu' has no translation" in line for line in found)


def test_every_routed_command_has_help_and_the_other_way_round() -> None:
    routed: set[str] = set()
    for router in routers.ordered():
        for handler in router.message.handlers:
            for flt in handler.filters or ():
                if isinstance(flt.callback, Command):
                    routed.update(str(c) for c in flt.callback.commands)
    assert routed == {spec.name for spec in COMMANDS}
    i18n = build_i18n()
    for locale in LOCALES:
        with localized(i18n, locale):
            menu = bot_commands(Role.ADMIN)
        assert [c.command for c in menu] == [spec.name for spec in COMMANDS]
        assert all(re.fullmatch(r"[a-z0-9_]{1,32}", c.command) for c in menu)
        assert all(1 <= len(c.description) <= 256 for c in menu)
    with localized(i18n, "en"):
        assert [c.command for c in bot_commands(Role.VIEWER)] == [
            s.name for s in COMMANDS if s.role is Role.VIEWER
        ]


def test_every_code_has_a_name() -> None:
    assert set(GATE_NAMES) == set(GateCode)
    assert set(BREAKER_NAMES) == set(BreakerCode)
    assert set(SESSION_NAMES) == set(Session)
    assert set(NOTIFY_NAMES) == set(NotifyKind)
    assert set(ROLE_NAMES) == set(Role)
    assert set(SIDE_NAMES) == set(Side)
    with localized(build_i18n(), "ru"):
        assert str(GATE_NAMES[GateCode.SPREAD]) == "Спред"
        assert str(ROLE_NAMES[Role.TRADER]) == "трейдер"
