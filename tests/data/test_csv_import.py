"""CSV import: MT5 exports, Dukascopy, plain OHLC; validation messages; gaps; the cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from engine.data.bundled_series import EURUSD_FILE, bundled_bytes
from engine.data.csv_import import (
    CsvFormat,
    ImportReport,
    import_csv,
    parse_bars_csv,
    read_bars_csv,
)
from engine.errors import BadArguments, DataValidationError
from engine.models import Timeframe
from tests.data.memory_bar_repo import MemoryBarRepo

MT5_M15 = (
    "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
    "2024.01.02\t01:00:00\t2062.50\t2064.10\t2061.90\t2063.40\t1234\t0\t25\n"
    "2024.01.02\t01:15:00\t2063.40\t2065.00\t2063.00\t2064.00\t1000\t0\t22\n"
    "2024.01.02\t01:30:00\t2064.00\t2064.20\t2060.15\t2060.80\t1710\t0\t31\n"
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_mt5_intraday_export_in_server_time() -> None:
    frame, report = parse_bars_csv(MT5_M15, Timeframe.M15, utc_offset_hours=2)
    # Server time UTC+2: 01:00 on the 2nd is 23:00 UTC on the 1st.
    assert list(frame.index) == [
        utc(2024, 1, 1, 23),
        utc(2024, 1, 1, 23, 15),
        utc(2024, 1, 1, 23, 30),
    ]
    assert list(frame["close"]) == [2063.40, 2064.00, 2060.80]
    assert list(frame["high"]) == [2064.10, 2065.00, 2064.20]
    assert list(frame["volume"]) == [1234.0, 1000.0, 1710.0]  # <TICKVOL>, not <VOL>
    assert list(frame["spread"]) == [25, 22, 31]
    assert frame["spread"].dtype == np.int64
    assert report.format is CsvFormat.MT5
    assert (report.rows, report.start, report.end) == (
        3,
        utc(2024, 1, 1, 23),
        utc(2024, 1, 1, 23, 30),
    )
    assert report.spacing == timedelta(minutes=15)
    assert report.timeframe_ok
    assert report.gaps == 0


def test_mt5_daily_export_without_time_column(tmp_path: Path) -> None:
    text = (
        "<DATE>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
        "2024.01.04\t2041.0\t2050.5\t2030.2\t2044.1\t90000\t0\t20\n"
        "2024.01.05\t2044.1\t2064.0\t2024.3\t2049.9\t95000\t0\t21\n"
        "2024.01.08\t2049.9\t2051.0\t2016.5\t2028.0\t88000\t0\t22\n"
    )
    path = tmp_path / "XAUUSD_Daily.csv"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))  # MT5 writes UTF-16 LE with a BOM
    # The server offset does not move daily bars: each stays labelled by its trading day.
    frame, report = read_bars_csv(path, Timeframe.D1, utc_offset_hours=2)
    assert list(frame.index) == [utc(2024, 1, 4), utc(2024, 1, 5), utc(2024, 1, 8)]
    assert report.utc_offset_hours == 0
    assert frame.attrs["source"] == "csv: XAUUSD_Daily.csv"
    assert report.format is CsvFormat.MT5
    assert report.timeframe_ok
    assert report.gaps == 0  # Friday -> Monday is the weekend


def test_plain_csv_mixed_case_split_date_and_time() -> None:
    text = (
        "Date;Time;Open;High;Low;Close\n"
        "2024-03-05;14:00;2120,5;2125,0;2119,0;2124,0\n"
        "2024-03-05;15:00;2124,0;2130,0;2123,5;2128,25\n"
    )
    frame, report = parse_bars_csv(text, Timeframe.H1)
    assert list(frame.index) == [utc(2024, 3, 5, 14), utc(2024, 3, 5, 15)]
    assert list(frame["close"]) == [2124.0, 2128.25]  # decimal commas read
    assert (frame["volume"] == 0).all() and (frame["spread"] == 0).all()
    assert report.format is CsvFormat.PLAIN


def test_plain_csv_with_its_own_offsets_and_volume() -> None:
    text = (
        "TIMESTAMP,OPEN,HIGH,LOW,CLOSE,TICK_VOLUME,SPREAD\n"
        "2024-03-05T16:00:00+02:00,10,11,9,10.5,5,3\n"
        "2024-03-05T17:00:00+02:00,10.5,12,10,11,7,4\n"
    )
    frame, _ = parse_bars_csv(text, Timeframe.H1)
    assert list(frame.index) == [utc(2024, 3, 5, 14), utc(2024, 3, 5, 15)]
    assert list(frame["volume"]) == [5.0, 7.0]
    with pytest.raises(BadArguments, match="carry their own offset"):
        parse_bars_csv(text, Timeframe.H1, utc_offset_hours=2)


def test_epoch_seconds_as_copy_rates_writes_them() -> None:
    text = "time,open,high,low,close\n1704186000,1,2,0.5,1.5\n1704186900,1.5,2,1,1.2\n"
    frame, _ = parse_bars_csv(text, Timeframe.M15)
    assert list(frame.index) == [utc(2024, 1, 2, 9), utc(2024, 1, 2, 9, 15)]


def test_dukascopy_export_is_the_bundled_eurusd(tmp_path: Path) -> None:
    path = tmp_path / "FOREX_EURUSD_1H_ASK.csv"
    path.write_bytes(bundled_bytes(EURUSD_FILE))  # CRLF, as published
    frame, report = read_bars_csv(path, Timeframe.H1)
    assert report.format is CsvFormat.DUKASCOPY
    assert report.rows == len(frame) == 6225
    assert (report.start, report.end) == (utc(2017, 1, 1, 22), utc(2017, 12, 29, 21))
    assert report.timeframe_ok
    # Reference loop: steps of more than an hour that are not Friday -> Sunday.
    times = list(frame.index)
    odd = [
        (a, b)
        for a, b in zip(times, times[1:], strict=False)
        if b - a > timedelta(hours=1) and not (a.weekday() == 4 and b.weekday() == 6)
    ]
    assert [(a, b) for a, b in odd] == [(utc(2017, 12, 25, 7), utc(2017, 12, 25, 22))]
    assert report.gaps == 1
    assert report.missing_bars == 14  # 08:00 ... 21:00 on Christmas Day
    assert report.largest_gaps[0].after == utc(2017, 12, 25, 7)
    assert "1 gaps, 14 bars missing" in report.summary()


def test_dukascopy_local_time_with_gmt_offset() -> None:
    text = (
        "Local time,Open,High,Low,Close,Volume\n"
        "02.01.2024 10:00:00.000 GMT+0200,1.1,1.2,1.0,1.15,100\n"
        "02.01.2024 11:00:00.000 GMT+0200,1.15,1.2,1.1,1.12,90\n"
    )
    frame, report = parse_bars_csv(text, Timeframe.H1)
    assert list(frame.index) == [utc(2024, 1, 2, 8), utc(2024, 1, 2, 9)]
    assert report.format is CsvFormat.DUKASCOPY


HEADER = "time,open,high,low,close\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "2024-01-02 00:15,1,2,0.5,1.5\n2024-01-02 00:00,1,2,0.5,1.5\n"
            "2024-01-02 00:30,1,2,0.5,1\n",
            "row 3: time 2024-01-02 00:00 is earlier than row 2's 2024-01-02 00:15 "
            "(rows must be in ascending time order)",
        ),
        (
            "2024-01-02 00:00,1,2,0.5,1.5\n2024-01-02 00:15,1,2,0.5,1.5\n"
            "2024-01-02 00:15,1,2,0.5,1\n",
            "row 4: duplicate time 2024-01-02 00:15 (same as row 3)",
        ),
        (
            "2024-01-02 00:00,1900,1905,1899,1902\n2024-01-02 00:15,1902,1901.2,1899,1903.0\n",
            "row 3: high 1901.2 < close 1903.0",
        ),
        (
            "2024-01-02 00:00,1900,1899.5,1899,1899.2\n",
            "row 2: high 1899.5 < open 1900.0",
        ),
        (
            "2024-01-02 00:00,1900,1905,1901,1902\n",
            "row 2: low 1901.0 > open 1900.0",
        ),
        ("2024-01-02 00:00,1,2,0.5,NaN\n", "row 2: close is NaN"),
        ("2024-01-02 00:00,1,inf,0.5,1\n", "row 2: high 'inf' is not a number"),
        ("2024-01-02 00:00,1,2,,1\n", "row 2: low is empty"),
        ("2024-01-02 00:00,1,2,abc,1\n", "row 2: low 'abc' is not a number"),
        ("2024-01-02 00:00,0,2,0,1\n", "row 2: open 0.0 is not positive"),
        (
            "2024-01-02 00:00,1,2,0.5,1\nyesterday,1,2,0.5,1\n",
            "row 3: time 'yesterday' does not read like '2024-01-02 00:00'",
        ),
        (
            "2024-01-02 01:00,1,2,0.5,1\n2024-01-02 00:00,1,2,0.5,1\n",
            "rows are in descending time order (newest first); sort them oldest first",
        ),
    ],
)
def test_bad_files_name_row_and_rule(body: str, message: str) -> None:
    with pytest.raises(DataValidationError) as caught:
        parse_bars_csv(HEADER + body, Timeframe.M15)
    assert str(caught.value) == message


def test_a_rule_broken_on_many_rows_says_how_many() -> None:
    body = "".join(f"2024-01-02 00:{m:02d},1900,1899,1898,1900.5\n" for m in (0, 15, 30))
    with pytest.raises(DataValidationError) as caught:
        parse_bars_csv(HEADER + body, Timeframe.M15)
    assert str(caught.value) == (
        "row 2: high 1899.0 < close 1900.5 (3 rows break this rule, the first is shown)"
    )


def test_row_numbers_are_file_lines_even_after_blank_lines() -> None:
    text = HEADER + "2024-01-02 00:00,1,2,0.5,1\n\n2024-01-02 00:15,1,2,1.5,1\n"
    with pytest.raises(DataValidationError, match=r"^row 4: low 1\.5 > close 1\.0$"):
        parse_bars_csv(text, Timeframe.M15)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "foo,bar,baz\n1,2,3\n",
            "cannot read the header 'foo,bar,baz': no open, high, low, close column "
            "(found: foo, bar, baz)",
        ),
        (
            "when,open,high,low,close\n2024-01-02,1,2,0.5,1\n",
            "cannot read the header 'when,open,high,low,close': need a time column (time, date, "
            "datetime or timestamp, or MT5's <DATE> <TIME>) and open, high, low, close",
        ),
        ("", "the file is empty"),
        (HEADER, "no bars: the file has a header but no rows"),
    ],
)
def test_garbage_headers(text: str, message: str) -> None:
    with pytest.raises(DataValidationError) as caught:
        parse_bars_csv(text, Timeframe.M15)
    assert str(caught.value) == message


def test_spread_must_be_whole_points() -> None:
    text = "time,open,high,low,close,spread\n2024-01-02 00:00,1,2,0.5,1,0.25\n"
    with pytest.raises(DataValidationError, match="row 2: spread 0.25 is not a whole number"):
        parse_bars_csv(text, Timeframe.M15)


def _m15_csv(times: list[datetime]) -> str:
    return HEADER + "".join(f"{t:%Y-%m-%d %H:%M},10,11,9,10\n" for t in times)


def test_gap_report_ignores_weekend_and_daily_break() -> None:
    start = utc(2024, 1, 5, 20)  # Friday 20:00
    friday = [start + timedelta(minutes=15 * i) for i in range(4)]  # last bar 20:45
    sunday = [utc(2024, 1, 7, 22) + timedelta(minutes=15 * i) for i in range(8)]  # to 23:45
    monday = [utc(2024, 1, 8, 0) + timedelta(minutes=15 * i) for i in range(84)]  # to 20:45
    tuesday = [utc(2024, 1, 8, 22) + timedelta(minutes=15 * i) for i in range(60)]  # to 12:45
    # Holes on Tuesday: 08:00-09:45 (8 bars) and 11:00 (1 bar).
    tuesday = [t for t in tuesday if not (t.hour in (8, 9) or (t.hour == 11 and t.minute == 0))]
    _, report = parse_bars_csv(_m15_csv(friday + sunday + monday + tuesday), Timeframe.M15)
    assert report.gaps == 2
    assert report.missing_bars == 9
    biggest, second = report.largest_gaps
    assert (biggest.after, biggest.before, biggest.missing_bars) == (
        utc(2024, 1, 9, 7, 45),
        utc(2024, 1, 9, 10),
        8,
    )
    assert (second.after, second.missing_bars) == (utc(2024, 1, 9, 10, 45), 1)
    assert report.timeframe_ok


def test_timeframe_check_catches_a_mislabelled_file() -> None:
    hours = [utc(2024, 1, 2, h) for h in range(6)]
    _, report = parse_bars_csv(_m15_csv(hours), Timeframe.M15)
    assert report.spacing == timedelta(hours=1)
    assert not report.timeframe_ok
    off_grid = [utc(2024, 1, 2, 10, 7), utc(2024, 1, 2, 10, 22)]
    _, report = parse_bars_csv(_m15_csv(off_grid), Timeframe.M15)
    assert report.misaligned == 2
    assert not report.timeframe_ok


async def test_import_stores_in_the_bars_cache(tmp_path: Path) -> None:
    path = tmp_path / "XAUUSD_M15.csv"
    path.write_text(MT5_M15, encoding="utf-8")
    repo = MemoryBarRepo()
    report = await import_csv(repo, path, "xauusd", Timeframe.M15, utc_offset_hours=2)
    assert isinstance(report, ImportReport)
    (stored,) = await repo.ranges()
    assert (stored.symbol, stored.timeframe, stored.bars) == ("XAUUSD", Timeframe.M15, 3)
    assert stored.source == "csv: XAUUSD_M15.csv"
    assert stored.simulated is False
    assert stored.start == utc(2024, 1, 1, 23)


async def test_import_refuses_a_timeframe_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "hourly.csv"
    path.write_text(_m15_csv([utc(2024, 1, 2, h) for h in range(6)]), encoding="utf-8")
    repo = MemoryBarRepo()
    with pytest.raises(DataValidationError) as caught:
        await import_csv(repo, path, "XAUUSD", Timeframe.M15)
    assert str(caught.value) == (
        "hourly.csv does not hold M15 bars: most bars are 1:00:00 apart and 0 are off the M15 grid"
    )
    assert await repo.ranges() == []


def test_padded_cells_and_headers() -> None:
    text = "Date , Time , Open, High, Low, Close \n 2024-03-05 , 14:00 , 1, 2, 0.5, 1.5 \n"
    frame, _ = parse_bars_csv(text, Timeframe.H1)
    assert list(frame.index) == [utc(2024, 3, 5, 14)]
    assert list(frame.iloc[0][["open", "high", "low", "close"]]) == [1.0, 2.0, 0.5, 1.5]


async def test_import_explains_server_offset_off_the_grid(tmp_path: Path) -> None:
    path = tmp_path / "h4.csv"
    path.write_text(_m15_csv([utc(2024, 1, 2, h) for h in (0, 4, 8, 12)]), encoding="utf-8")
    with pytest.raises(DataValidationError) as caught:
        await import_csv(MemoryBarRepo(), path, "XAUUSD", Timeframe.H4, utc_offset_hours=2)
    assert str(caught.value) == (
        "h4.csv does not hold H4 bars: most bars are 4:00:00 apart and 4 are off the H4 grid "
        "(a 2 h server offset moves H4 bars off the UTC grid: import H1 or lower and let "
        "chattrader resample)"
    )
