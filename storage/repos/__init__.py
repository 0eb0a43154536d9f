"""SQLite repositories, one module per aggregate, each implementing a Protocol of engine.ports."""
