"""Market data: where bars come from and how they are checked, shaped and streamed.

``sources`` (``BundledData``, ``CachedData``) implement the ``MarketData`` port;
``bundled_series`` and ``bridge`` hold the shipped series (real EURUSD H1 and gold D1, simulated
XAUUSD M15; the files are in ``bundled/``); ``csv_import`` (with ``csv_times``) reads and
validates trader files; ``synthetic`` makes seeded gold-like bars; ``resample`` builds higher
timeframes; ``feeds`` streams closed bars for paper mode; ``gaps``, ``sessions``, ``frames`` and
``noise`` are the shared pieces they are built from.
"""
