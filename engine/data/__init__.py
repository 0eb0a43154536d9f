"""Market data: where bars come from and how they are checked, shaped and streamed.

``sources`` (``BundledData``, ``CachedData``) implement the ``MarketData`` port; ``bundled`` and
``bridge`` hold the shipped series (real EURUSD H1 and gold D1, simulated XAUUSD M15);
``csv_import`` reads and validates trader files; ``synthetic`` makes seeded gold-like bars;
``resample`` builds higher timeframes; ``feeds`` streams closed bars for paper mode; ``gaps``,
``sessions``, ``frames`` and ``noise`` are the shared pieces they are built from.
"""
