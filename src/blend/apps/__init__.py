"""Thin Django apps, one per domain concept. Business rules live in each app's
``services.py`` (state changes, in a transaction, with an audit row) or in the
pure core; models store data and views parse and render."""
