"""`blend trial add DIR`: a trial is a folder of configuration, validated, copied and
audited, all or nothing; refused folders leave nothing behind (issue 12)."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError

from blend.apps.audit.models import AuditEvent
from blend.apps.trials import services
from blend.apps.trials.models import TrialRegistration
from blend.protocol import clear_caches

pytestmark = pytest.mark.django_db

PALLIATE = Path(__file__).parents[2] / "core" / "protocol" / "trials" / "PALLIATE"


@pytest.fixture
def trials_dir(tmp_path: Path, settings):  # type: ignore[no-untyped-def]
    settings.BLEND_TRIALS_DIR = tmp_path / "registered"
    clear_caches()
    yield settings.BLEND_TRIALS_DIR
    clear_caches()


def trial(*args: str) -> str:
    out = StringIO()
    call_command("trial", *args, stdout=out)
    return out.getvalue()


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "broken" / "PALLIATE"
    shutil.copytree(PALLIATE, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_the_shipped_trials_are_listed(trials_dir: Path) -> None:
    listing = trial("list")
    assert "BLEND" in listing and "recruiting" in listing
    assert "VERTICAL" in listing and "completed" in listing
    assert listing.count("shipped") == 2


def test_a_valid_folder_is_copied_recorded_audited_and_loaded(trials_dir: Path, personas) -> None:  # type: ignore[no-untyped-def]
    out = trial("add", str(PALLIATE), "--user", personas["admin_ada"].username)
    assert "PALLIATE registered" in out
    registration = TrialRegistration.objects.get(code="PALLIATE")
    assert registration.registered_by == personas["admin_ada"]
    assert (trials_dir / "PALLIATE" / "trial.toml").read_bytes() == (
        PALLIATE / "trial.toml"
    ).read_bytes()
    event = AuditEvent.objects.get(action="trial.add")
    assert (
        event.details["code"] == "PALLIATE"
        and event.details["sha256"] == registration.config_sha256
    )
    assert set(services.all_trials()) == {"BLEND", "VERTICAL", "PALLIATE"}
    assert "PALLIATE" in trial("list")


def test_validate_checks_a_folder_and_registers_nothing(trials_dir: Path) -> None:
    assert "PALLIATE: the folder is valid" in trial("validate", str(PALLIATE))
    assert not TrialRegistration.objects.exists()
    assert not trials_dir.exists()


@pytest.mark.parametrize(
    ("file", "old", "new", "named"),
    [
        (
            "eligibility.toml",
            '"kps", "life_expectancy_months"]',
            '"kps", "no_such_fact"]',
            "no_such_fact",
        ),
        (
            "trial.toml",
            'arms = ["intervention", "control"]',
            'arms = ["intervention", "placebo"]',
            "arms",
        ),
        ("overlap.toml", "", "", ""),
    ],
)
def test_an_invalid_folder_is_refused_with_file_and_key_and_leaves_nothing(
    trials_dir: Path, tmp_path: Path, file: str, old: str, new: str, named: str
) -> None:
    if file == "overlap.toml":
        text = (PALLIATE / "overlap.toml").read_text(encoding="utf-8")
        folder = broken_copy(
            tmp_path, "overlap.toml", text, text.replace('"BLEND"', '"NOSUCHTRIAL"', 1)
        )
        named = "NOSUCHTRIAL"
    else:
        folder = broken_copy(tmp_path, file, old, new)
    with pytest.raises(CommandError) as refused:
        trial("add", str(folder))
    assert file in str(refused.value) and named in str(refused.value)
    assert not TrialRegistration.objects.exists()
    assert not AuditEvent.objects.filter(action="trial.add").exists()
    assert not trials_dir.exists() or not any(trials_dir.iterdir())


def test_a_trial_cannot_be_added_twice(trials_dir: Path) -> None:
    trial("add", str(PALLIATE))
    with pytest.raises(CommandError, match="already registered"):
        trial("add", str(PALLIATE))
    assert TrialRegistration.objects.count() == 1


def test_a_shipped_trial_code_is_refused(trials_dir: Path, tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "trial.toml", 'code = "PALLIATE"', 'code = "VERTICAL"')
    with pytest.raises(CommandError, match="VERTICAL"):
        trial("add", str(folder))
    assert not TrialRegistration.objects.exists()


def test_a_failure_while_recording_leaves_no_folder(
    trials_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "record_event", fail)
    with pytest.raises(RuntimeError):
        services.add_trial(PALLIATE, user=None)
    assert not TrialRegistration.objects.exists()
    assert not any(trials_dir.iterdir())


def test_a_folder_that_is_not_a_trial_is_refused_in_words(trials_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="expected a trial folder with a trial.toml"):
        trial("add", str(tmp_path))


def test_start_up_refuses_a_registered_folder_edited_into_an_invalid_one(trials_dir: Path) -> None:
    trial("add", str(PALLIATE))
    path = trials_dir / "PALLIATE" / "eligibility.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"kps", "life', '"nope", "life'), encoding="utf-8"
    )
    clear_caches()
    errors = [e for e in run_checks() if e.id == "trials.E001"]
    assert len(errors) == 1 and "eligibility.toml" in errors[0].msg and "nope" in errors[0].msg


def test_a_registered_trials_name_is_refused_in_patient_messages(
    trials_dir: Path, personas
) -> None:  # type: ignore[no-untyped-def]
    from blend.apps.outbox import domain

    trial("add", str(PALLIATE), "--user", personas["admin_ada"].username)
    for cached in (domain._trial_names, domain._patterns, domain._disclosure_patterns):
        cached.cache_clear()
    try:
        assert "PALLIATE" in domain.check_text("Welkom bij PALLIATE")
        # Stage 3 of a completed trial may not name a registered trial still running.
        assert "PALLIATE" in domain.check_disclosure_text("Doe mee aan PALLIATE", "VERTICAL")
    finally:
        for cached in (domain._trial_names, domain._patterns, domain._disclosure_patterns):
            cached.cache_clear()
