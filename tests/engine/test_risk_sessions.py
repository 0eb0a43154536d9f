"""Session hours (UTC), the FX/metals weekend and session now/next, against brute-force scans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.risk import (
    Session,
    next_session_open,
    session_end,
    session_now,
    session_open,
    weekend_closed,
    weekend_reopen,
)

MON = datetime(2024, 5, 6, tzinfo=UTC)  # a Monday


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """Time on day ``day`` of the week of 2024-05-06 (0 = Monday), UTC."""
    return MON + timedelta(days=day, hours=hh, minutes=mm)


@pytest.mark.parametrize(
    ("session", "t", "is_open"),
    [
        (Session.TOKYO, at(0, 0, 0), True),
        (Session.TOKYO, at(0, 8, 59), True),
        (Session.TOKYO, at(0, 9, 0), False),
        (Session.LONDON, at(0, 6, 59), False),
        (Session.LONDON, at(0, 7, 0), True),
        (Session.LONDON, at(0, 15, 59), True),
        (Session.LONDON, at(0, 16, 0), False),
        (Session.NEWYORK, at(0, 11, 59), False),
        (Session.NEWYORK, at(0, 12, 0), True),
        (Session.NEWYORK, at(4, 20, 59), True),
        (Session.NEWYORK, at(4, 21, 0), False),
        (Session.LDN_NY, at(2, 12, 0), True),
        (Session.LDN_NY, at(2, 16, 0), False),
        (Session.LONDON, at(5, 10, 0), False),  # Saturday
        (Session.TOKYO, at(6, 23, 0), False),  # Sunday evening UTC: Monday's Tokyo not yet
        (Session.ANY, at(5, 10, 0), True),
    ],
)
def test_session_hours(session: Session, t: datetime, is_open: bool) -> None:
    assert session_open(session, t) is is_open


def test_overlap_is_london_and_newyork_every_minute_of_a_week() -> None:
    for minute in range(7 * 24 * 60):
        t = MON + timedelta(minutes=minute)
        both = session_open(Session.LONDON, t) and session_open(Session.NEWYORK, t)
        assert session_open(Session.LDN_NY, t) is both, t


@pytest.mark.parametrize(
    ("t", "closed"),
    [
        (at(4, 20, 59), False),
        (at(4, 21, 0), True),
        (at(5, 12, 0), True),
        (at(6, 21, 59), True),
        (at(6, 22, 0), False),
        (at(0, 0, 0), False),
        (at(2, 3, 0), False),
    ],
)
def test_weekend(t: datetime, closed: bool) -> None:
    assert weekend_closed(t) is closed


def test_weekend_reopen_is_sunday_22_utc() -> None:
    assert weekend_reopen(at(4, 21, 30)) == at(6, 22, 0)
    assert weekend_reopen(at(6, 21, 59)) == at(6, 22, 0)


def test_session_now_keeps_given_order() -> None:
    t = at(1, 13, 0)
    assert session_now(t, (Session.NEWYORK, Session.TOKYO, Session.LONDON)) == (
        Session.NEWYORK,
        Session.LONDON,
    )
    assert session_now(at(1, 10, 0), (Session.NEWYORK,)) == ()
    assert session_end(Session.LONDON, t) == at(1, 16, 0)
    assert session_end(Session.NEWYORK, at(1, 10, 0)) is None


@pytest.mark.parametrize(
    ("t", "sessions", "expected"),
    [
        (at(0, 16, 30), (Session.LONDON, Session.NEWYORK), (Session.LONDON, at(1, 7))),
        (at(0, 5, 0), (Session.LONDON, Session.NEWYORK), (Session.LONDON, at(0, 7))),
        (at(4, 21, 30), (Session.LONDON,), (Session.LONDON, at(7, 7))),  # Friday -> Monday
        (at(5, 9, 0), (Session.TOKYO,), (Session.TOKYO, at(7, 0))),  # Saturday -> Monday
        (at(0, 7, 0), (Session.LONDON,), (Session.LONDON, at(1, 7))),  # strictly after now
        (at(0, 7, 0), (Session.ANY,), None),
    ],
)
def test_next_session_open(
    t: datetime, sessions: tuple[Session, ...], expected: tuple[Session, datetime] | None
) -> None:
    assert next_session_open(t, sessions) == expected


def _brute_next_open(t: datetime, session: Session) -> datetime:
    """First minute after ``t`` where the session is open and was closed a minute earlier."""
    step = timedelta(minutes=1)
    probe = t + step
    while not (session_open(session, probe) and not session_open(session, probe - step)):
        probe += step
    return probe


@pytest.mark.parametrize("session", [Session.TOKYO, Session.LONDON, Session.NEWYORK])
def test_next_open_matches_minute_scan(session: Session) -> None:
    for hours in range(0, 7 * 24, 7):  # every 7 hours across a week, weekend included
        t = MON + timedelta(hours=hours, minutes=13)
        found = next_session_open(t, (session,))
        assert found is not None
        assert found == (session, _brute_next_open(t, session)), t
