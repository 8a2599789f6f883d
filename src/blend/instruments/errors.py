"""The one exception the instrument library raises for bad input."""

from __future__ import annotations


class InstrumentError(ValueError):
    """Invalid answers, options or codes.

    The message names the instrument, the item (or option), what was expected and
    what was received, so a form, the CLI or an analyst can fix the input. A wrong
    score is never returned silently instead.
    """


def describe(value: object) -> str:
    """Render a received value with its type, e.g. ``'3' (str)``."""
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()  # numpy scalars from DataFrames: show 7 (int), not np.int64(7)
    return f"{value!r} ({type(value).__name__})"
