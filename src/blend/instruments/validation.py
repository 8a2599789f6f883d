"""Turn answers (one mapping, or a DataFrame of many) into a float matrix for scoring.

Missing answers (absent key, ``None`` or NaN) become NaN. Every other value must be
of the right type and within the item's options or range; otherwise an
``InstrumentError`` names the item, what was expected and what was received.
String-coded options are encoded as their position in the item's options.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from blend.instruments.errors import InstrumentError, describe
from blend.instruments.model import Instrument, Item, OptionSpec

if TYPE_CHECKING:
    import pandas as pd


def expected(item: Item) -> str:
    """Human description of the values an item accepts."""
    if item.kind == "number":
        whole = "a whole number" if item.integer else "a number"
        unit = f" {item.unit}" if item.unit else ""
        return f"{whole} from {item.minimum:g} to {item.maximum:g}{unit}, or null"
    values = item.values
    if not item.coded and values == tuple(range(int(values[0]), int(values[-1]) + 1)):
        return f"an integer from {values[0]} to {values[-1]}, or null"
    return "one of " + ", ".join(repr(v) for v in values) + ", or null"


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fail(instrument: Instrument, item: Item, value: object, where: str = "") -> InstrumentError:
    return InstrumentError(
        f"{instrument.code}: item {item.key!r}{where}: expected {expected(item)}; "
        f"received {describe(value)}"
    )


def encode_value(instrument: Instrument, item: Item, value: object) -> float:
    """Validate one answer and return its numeric code (NaN when missing)."""
    if is_missing(value):
        return math.nan
    if item.coded:
        if isinstance(value, str) and value in item.values:
            return float(item.values.index(value))
        raise _fail(instrument, item, value)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise _fail(instrument, item, value)
    number = float(value)
    if (
        not math.isfinite(number)
        or (item.integer or item.kind == "choice")
        and number != int(number)
    ):
        raise _fail(instrument, item, value)
    if item.kind == "choice" and number not in item.values:
        raise _fail(instrument, item, value)
    if item.kind == "number" and not item.minimum <= number <= item.maximum:  # type: ignore[operator]
        raise _fail(instrument, item, value)
    return number


def check_keys(instrument: Instrument, keys: Any, what: str = "item") -> None:
    unknown = [k for k in keys if k not in instrument.item_keys]
    if unknown:
        raise InstrumentError(
            f"{instrument.code}: unknown {what} {unknown[0]!r}; expected "
            f"{', '.join(instrument.item_keys)}"
        )


def answers_to_row(instrument: Instrument, answers: object) -> np.ndarray:
    """Validate one answer mapping and return a 1 x n_items float matrix."""
    if not isinstance(answers, Mapping):
        raise InstrumentError(
            f"{instrument.code}: answers: expected a JSON object / mapping of item -> value; "
            f"received {describe(answers)}"
        )
    check_keys(instrument, answers)
    row = [encode_value(instrument, item, answers.get(item.key)) for item in instrument.items]
    return np.asarray([row], dtype=float)


def frame_to_matrix(instrument: Instrument, df: pd.DataFrame) -> np.ndarray:
    """Validate a DataFrame (one row per response) and return an n x n_items matrix.

    Columns must be item keys; an absent column means the item is missing in every row.
    A frame holding every item as plain integers (which cannot be missing) is checked
    as one block and returned as an integer matrix; scorers treat that as complete.
    Anything else becomes a float matrix with NaN for missing answers.
    """
    check_keys(instrument, df.columns, what="column")
    block = _numeric_block(instrument, df)
    if block is not None:
        _check_block(instrument, df, block)
        return block
    out = np.full((len(df), len(instrument.items)), np.nan, order="F")
    for j, item in enumerate(instrument.items):
        if item.key in df.columns:
            out[:, j] = _column(instrument, item, df[item.key])
    return out


def _numeric_block(instrument: Instrument, df: pd.DataFrame) -> np.ndarray | None:
    """All items as one plain int/float array (fast path), or None."""
    keys = list(instrument.item_keys)
    if any(item.coded for item in instrument.items) or set(keys) - set(df.columns):
        return None
    if any(df[key].dtype.kind not in "iuf" for key in keys):
        return None
    # Selecting columns copies the frame; skip that when they are already in item order.
    block = df.to_numpy() if list(df.columns) == keys else df[keys].to_numpy()
    if block.dtype.kind == "f":
        return block.astype(np.float64, copy=False)
    return block if block.dtype.kind in "iu" else None


def _check_block(instrument: Instrument, df: pd.DataFrame, block: np.ndarray) -> None:
    """Vectorized range/type check of a whole block; NaN passes (missing)."""
    items = instrument.items
    low = np.array([_bounds(item)[0] for item in items])
    high = np.array([_bounds(item)[1] for item in items])
    gaps = any(i.kind == "choice" and len(i.values) != _span(i) for i in items)
    if block.dtype.kind in "iu" and not gaps:
        smallest, largest = column_extremes(block)
        if (smallest >= low).all() and (largest <= high).all():
            return  # the common case: one cheap pass, no per-cell masks
    bad = (block < low) | (block > high)
    whole = np.array([item.kind == "choice" or item.integer for item in items])
    if block.dtype.kind == "f":
        with np.errstate(invalid="ignore"):  # inf - inf: caught by the isinf line below
            bad |= whole & (block - np.floor(block) > 0)
        bad |= np.isinf(block) & ~np.isinf(high)
    for j, item in enumerate(items):
        if item.kind == "choice" and len(item.values) != _span(item):
            column = block[:, j]
            bad[:, j] |= ~np.isin(column, item.values) & ~np.isnan(column.astype(float))
    if bad.any():
        row, col = np.unravel_index(int(np.argmax(bad)), bad.shape)
        item = items[col]
        raise _fail(instrument, item, df[item.key].iloc[int(row)], f" (row {df.index[int(row)]!r})")


def column_extremes(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column min and max (NaN ignored) of a C-ordered n x k block, fast.

    Reducing a tall, narrow array along axis 0 vectorizes poorly; viewing 64 rows as one
    wide row gives numpy a long inner loop, then the 64 partial results are folded.
    """
    n, k = block.shape
    rows = n - n % 64
    parts_min, parts_max = [], []
    if rows and block.flags.c_contiguous:
        wide = block[:rows].reshape(-1, 64 * k)
        parts_min.append(np.fmin.reduce(wide, axis=0).reshape(64, k))
        parts_max.append(np.fmax.reduce(wide, axis=0).reshape(64, k))
    else:
        rows = 0
    if rows < n:
        parts_min.append(block[rows:])
        parts_max.append(block[rows:])
    smallest = np.fmin.reduce(np.concatenate(parts_min), axis=0)
    largest = np.fmax.reduce(np.concatenate(parts_max), axis=0)
    return smallest, largest


def _span(item: Item) -> float:
    low, high = _bounds(item)
    return high - low + 1


def _bounds(item: Item) -> tuple[float, float]:
    if item.kind == "choice":
        values = [float(v) for v in item.values]
        return min(values), max(values)
    return float(item.minimum), float(item.maximum)  # type: ignore[arg-type]


def _column(instrument: Instrument, item: Item, column: pd.Series) -> np.ndarray:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if is_bool_dtype(column.dtype) and len(column):
        raise _fail(instrument, item, column.iloc[0], " (column of booleans)")
    if item.coded or not is_numeric_dtype(column.dtype):
        return _column_slow(instrument, item, column)
    values = column.to_numpy(dtype=float, na_value=np.nan)
    ok = np.isnan(values) | _valid_numbers(item, values)
    if not ok.all():
        first = int(np.argmin(ok))
        raise _fail(instrument, item, column.iloc[first], f" (row {column.index[first]!r})")
    return values


def _valid_numbers(item: Item, values: np.ndarray) -> np.ndarray:
    low, high = _bounds(item)
    ok = (values >= low) & (values <= high)
    if item.kind == "choice" or item.integer:
        ok &= values == np.floor(values)
    if item.kind == "choice" and len(item.values) != high - low + 1:
        ok &= np.isin(values, item.values)  # gaps in the options (e.g. KPS in tens)
    return ok


def _column_slow(instrument: Instrument, item: Item, column: pd.Series) -> np.ndarray:
    """Per-value validation for string codes and mixed-type (object) columns."""
    out = np.empty(len(column))
    for i, (label, value) in enumerate(column.items()):
        try:
            out[i] = encode_value(instrument, item, value)
        except InstrumentError:
            raise _fail(instrument, item, value, f" (row {label!r})") from None
    return out


def resolve_options(instrument: Instrument, given: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults and reject unknown options or values outside the allowed choices."""
    specs = {spec.name: spec for spec in instrument.options}
    unknown = [name for name in given if name not in specs]
    if unknown:
        allowed = ", ".join(specs) or "none"
        raise InstrumentError(
            f"{instrument.code}: unknown option {unknown[0]!r}; options are: {allowed}"
        )
    resolved = {name: spec.default for name, spec in specs.items()}
    for name, value in given.items():
        resolved[name] = _check_option(instrument, specs[name], value)
    return resolved


def _check_option(instrument: Instrument, spec: OptionSpec, value: Any) -> Any:
    if spec.choices is not None and value not in spec.choices:
        raise InstrumentError(
            f"{instrument.code}: option {spec.name!r}: expected one of "
            f"{', '.join(repr(c) for c in spec.choices)}; received {describe(value)}"
        )
    return value
