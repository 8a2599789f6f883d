"""Deploy checks of the allocation chain (``blend check --deploy``).

allocation.E001: every trial that has a randomization seed also has its chain key
(BLEND_CHAIN_KEY[_<CODE>] or _FILE), 64 hexadecimal characters, so that production never
writes a chain that someone with database access alone could rewrite unnoticed.
allocation.W001: the anchor file is off (BLEND_CHAIN_ANCHOR_DIR empty) and no receipt
goes to the trial office, so a truncated chain is caught only by the sequence row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error, Warning, register

from blend.apps.allocation.sequence import chain_key_text, chain_key_variable
from blend.apps.trials.lookup import default_trial_code
from blend.randomization.chain import ChainKeyError, parse_chain_key


def _trials_with_a_seed() -> list[str]:
    trials = [default_trial_code()] if getattr(settings, "RANDOMIZATION_SEED", None) else []
    return trials + sorted(getattr(settings, "RANDOMIZATION_SEEDS", {}))


@register(deploy=True)
def check_chain_keys(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[Error | Warning]:
    found: list[Error | Warning] = []
    for trial in _trials_with_a_seed():
        name = chain_key_variable(trial)
        raw = chain_key_text(trial)
        try:
            if not raw:
                raise ChainKeyError(
                    f"{name}: expected a 64-hex-character chain key for {trial}, which has a "
                    "randomization seed; got nothing"
                )
            parse_chain_key(raw, field=name)
        except ChainKeyError as error:
            found.append(
                Error(
                    str(error),
                    hint=f'Generate one with `python -c "import secrets; '
                    f'print(secrets.token_hex(32))"`, keep it like the seed outside the '
                    f"database and set {name}_FILE (docs/deployment.md).",
                    id="allocation.E001",
                )
            )
    if not getattr(settings, "CHAIN_ANCHOR_DIR", "") and not getattr(
        settings, "CHAIN_RECEIPT_EMAIL", ""
    ):
        found.append(
            Warning(
                "the allocation chain head is anchored nowhere outside the database "
                "(BLEND_CHAIN_ANCHOR_DIR is empty and BLEND_CHAIN_RECEIPT_EMAIL is not set)",
                hint="Set BLEND_CHAIN_ANCHOR_DIR to a folder that is backed up apart from "
                "the database, or BLEND_CHAIN_RECEIPT_EMAIL to the trial office "
                "(docs/randomization.md).",
                id="allocation.W001",
            )
        )
    return found
