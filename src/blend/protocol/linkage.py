"""The routine-data linkage configuration (``cohort/linkage.toml``), validated. No Django.

    from blend.protocol.linkage import load_linkage
    ncr = load_linkage().ncr
    ncr.consent_item, ncr.fields, ncr.key_from

Every problem raises ``ConfigError`` naming the file, the key, what was expected and what
was found. A cohort without ``linkage.toml`` gets the defaults below (``DEFAULT_NCR``),
which docs/interoperability.md §3 explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blend.protocol.errors import Said
from blend.protocol.loaders import load_cohort
from blend.protocol.reading import Table

#: The columns the NCR file may hold: the pseudonymised key and pseudonymous cohort data.
NCR_FIELDS = (
    "linkage_key",
    "study_id",
    "sex",
    "birth_year",
    "site",
    "registered_on",
    "primary_tumour",
    "metastases_diagnosed_on",
    "consent_on",
)
#: Direct identifiers: the key is computed from them, they are never a column of the file.
KEY_INPUTS = ("site", "hospital_number", "date_of_birth")
IDENTIFIERS = ("full_name", "date_of_birth", "hospital_number", "email", "phone")


@dataclass(frozen=True)
class NcrLinkage:
    consent_item: str  # the consent item whose current "yes" lets a member be linked
    fields: tuple[str, ...]  # the file's columns, linkage_key first
    key_from: tuple[str, ...]  # what the keyed hash is computed from


@dataclass(frozen=True)
class Linkage:
    ncr: NcrLinkage


DEFAULT_NCR = NcrLinkage(
    consent_item="e",
    fields=("linkage_key", "sex", "birth_year", "primary_tumour", "metastases_diagnosed_on"),
    key_from=KEY_INPUTS,
)


def linkage_from_raw(
    raw: dict[str, Any] | None, path: Path, consent_codes: tuple[str, ...]
) -> Linkage:
    """Validate the raw ``linkage.toml`` (None: the file is absent, the defaults hold)."""
    if raw is None:
        return Linkage(DEFAULT_NCR)
    top = Table(raw, path)
    top.only({"ncr"})
    if "ncr" not in top:
        return Linkage(DEFAULT_NCR)
    ncr = top.table("ncr")
    ncr.only({"consent_item", "fields", "key_from"})
    item = ncr.choice("consent_item", consent_codes, default=DEFAULT_NCR.consent_item)
    if item not in consent_codes:  # the default itself must be an item of consent.toml
        raise ncr.error("consent_item", f"one of {list(consent_codes)}", item)
    return Linkage(NcrLinkage(item, _fields(ncr), _key_from(ncr)))


def _fields(ncr: Table) -> tuple[str, ...]:
    fields = ncr.texts("fields", default=DEFAULT_NCR.fields)
    for name in fields:
        if name in IDENTIFIERS:
            raise ncr.error(
                "fields",
                "no direct identifier (they never leave the hospital; the key stands for them)",
                name,
            )
        if name not in NCR_FIELDS:
            raise ncr.error("fields", f"some of {list(NCR_FIELDS)}", name)
    if not fields or fields[0] != "linkage_key":
        raise ncr.error("fields", "a list starting with 'linkage_key'", list(fields))
    return fields


def _key_from(ncr: Table) -> tuple[str, ...]:
    inputs = ncr.texts("key_from", default=DEFAULT_NCR.key_from)
    unknown = [name for name in inputs if name not in KEY_INPUTS]
    if unknown:
        raise ncr.error("key_from", f"some of {list(KEY_INPUTS)}", unknown[0])
    if "hospital_number" not in inputs:
        raise ncr.error(
            "key_from",
            "a list with 'hospital_number' (the only input that tells members apart)",
            Said(f"the list {list(inputs)}"),
        )
    return inputs


def load_linkage(override_dir: str | None = None) -> Linkage:
    """The cohort's linkage configuration (``cohort/linkage.toml``, or the defaults)."""
    cohort = load_cohort(override_dir)
    raw = cohort.sections.get("linkage")
    return linkage_from_raw(raw, cohort.folder / "linkage.toml", cohort.consent_codes)
