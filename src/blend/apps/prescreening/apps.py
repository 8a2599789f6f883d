from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrescreeningConfig(AppConfig):
    """Finding eligible members from cohort data: the cohort's recorded facts, assessed
    against every trial's criteria; the worklist per trial; the cohort denominator of the
    screening log. Above allocation, so it can show the overlap rules that keep a member
    out (``allocation.services.overlap_refusals``)."""

    name = "blend.apps.prescreening"
    label = "prescreening"
    url_prefix = "prescreening/"
    nav = [("prescreening:worklist", _("To screen"), "screening.write")]

    def ready(self) -> None:
        from blend.apps.prescreening import fhir_import, services
        from blend.apps.screening.services import register_confirmation_hold, register_prefill

        # The screening form of a member not yet screened starts from the cohort's facts.
        register_prefill("cohort facts", services.prefill_from_cohort)
        # Eligibility waits until the nurse has confirmed every fact imported from the
        # hospital record (FHIR import).
        register_confirmation_hold("imported cohort facts", fhir_import.unconfirmed_imports_block)
