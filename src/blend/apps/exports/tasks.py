"""The background import (``jobs.run_job``), on the tasks framework the outbox uses
(settings.TASKS; ``blend db-worker`` runs it)."""

from __future__ import annotations

from django_tasks import task

from blend.apps.exports.jobs import run_job


@task()
def run_import(job_id: int) -> str:
    return run_job(job_id).status
