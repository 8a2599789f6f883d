"""Edit checks of consent: the consent form and the saved consent records.

Run live by ``ConsentDecisionForm``; ``blend check-data`` runs ``CONSENT_RECORD``
over every saved record (``CHECK_SETS``).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from blend.apps.consent.models import ConsentRecord
from blend.editchecks import CheckSet, CrossField, DateOrder, EditCheck

FORM = "Consent"

CONSENT_FORM: tuple[EditCheck, ...] = (
    CrossField(
        "C01",
        "item_d",
        ("item_c", "item_d"),
        lambda v: v["item_d"] != "yes" or v["item_c"] == "yes",
        gettext_noop(
            "must be “no” or “postponed” (not informed when allocated to control) "
            "unless item c (randomization) is “yes”"
        ),
    ),
)

CONSENT_RECORD: tuple[EditCheck, ...] = (
    DateOrder("C02", "timeline.registered_on", "effective_on"),
)

CHECK_SETS = [
    CheckSet(FORM, CONSENT_RECORD, model=ConsentRecord),
    CheckSet(FORM, CONSENT_FORM),  # the form holds every item at once; a record holds one
]
