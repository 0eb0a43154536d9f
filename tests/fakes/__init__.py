"""Test doubles: a faithful fake of the MetaTrader5 module and friends."""
