"""A bounded load run against gunicorn with several workers (docs/deployment.md,
"Several workers"): the participant list, a questionnaire submit and a randomization,
from a few client threads, to 127.0.0.1 only.

Shared by the test that runs it in the PostgreSQL pass
(tests/web/test_gunicorn_workers.py: zero errors asserted, p95 printed, speed never
asserted) and by bench/bench_load.py (p95 recorded with bench/figures.py).

- ``build``: the data, through the services (needs Django set up): a nurse and an
  investigator, members screened and confirmed for randomization, and members whose
  treatment started four weeks ago with a questionnaire link each;
- ``start_gunicorn`` / ``stop``: gunicorn on a free loopback port with the environment
  given (the database the data is in);
- ``run``: the requests, spread over the threads, with a hard time limit; every answer
  other than the expected one is an error.
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-9"
NURSE = "load_nurse"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class LoadData:
    to_randomize: list[str]
    questionnaires: list[str]  # paths of single-use questionnaire links


@dataclass
class LoadResult:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    def p95(self, kind: str | None = None) -> float:
        values = (
            self.latencies.get(kind, [])
            if kind
            else [v for found in self.latencies.values() for v in found]
        )
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]

    def summary(self) -> str:
        kinds = ", ".join(
            f"{kind} p95 {self.p95(kind) * 1000:.0f} ms (n={len(found)})"
            for kind, found in sorted(self.latencies.items())
        )
        return (
            f"{self.requests} requests in {self.seconds:.1f} s, {len(self.errors)} errors; "
            f"p95 {self.p95() * 1000:.0f} ms overall; {kinds}"
        )


def build(randomizations: int, questionnaires: int) -> LoadData:
    """The members and links of one run, made through the services (Django set up)."""
    from django.utils import timezone

    from blend.apps.accounts.models import User
    from blend.apps.consent.models import ConsentFormVersion
    from blend.apps.consent.services import record_consent
    from blend.apps.followup.models import Assessment
    from blend.apps.questionnaires.services import issue_link
    from blend.apps.registry.models import Site
    from blend.apps.registry.services import Registration, register_participant
    from blend.apps.screening.services import confirm_eligibility, save_screening
    from blend.apps.treatment.services import record_treatment

    site = Site.objects.get_or_create(code="umcu", defaults={"name": "UMC Utrecht"})[0]
    nurse = User.objects.create_user(NURSE, password=PASSWORD, role="nurse", site=site)
    investigator = User.objects.create_user(
        "load_investigator", password=PASSWORD, role="investigator", site=site
    )
    version = ConsentFormVersion.objects.create(version="load v1", valid_from=date(2020, 1, 1))

    def member(n: int) -> Any:
        participant = register_participant(
            Registration(
                site=site,
                registered_on=date(2025, 3, 1),
                sex="female",
                primary_tumour="breast",
                metastases_diagnosed_on=date(2025, 2, 1),
                performance_status=1,
                full_name=f"Load Person {n}",
                date_of_birth=date(1960, 5, 17),
                hospital_number=f"L{100000 + n}",
                email=f"load{n}@example.org",
                phone="+31 612345678",
                preferred_language="nl",
            ),
            user=nurse,
        )
        for item in "abcde":
            record_consent(
                participant, item, "yes", on=date(2025, 3, 1), form_version=version, user=nurse
            )
        return participant

    # The same eligible patient as the tests (ROOT is on sys.path: bench_load, the gunicorn test).
    from tests.eligible_facts import ELIGIBLE_FORM_FACTS as ELIGIBLE_FACTS

    to_randomize = []
    for n in range(randomizations):
        participant = member(n)
        save_screening(participant, ELIGIBLE_FACTS, on=date(2025, 3, 10), user=nurse)
        confirm_eligibility(participant, user=investigator, password=PASSWORD)
        to_randomize.append(participant.study_id)
    links = []
    start = timezone.localdate() - timedelta(days=28)
    for n in range(questionnaires):
        participant = member(randomizations + n)
        record_treatment(
            participant,
            {
                "pathway": "standard",
                "planned_on": start,
                "surgery_on": start,
                "radiotherapy_on": start + timedelta(days=10),
                "radiotherapy_type": "5x4 Gy",
            },
            user=nurse,
        )
        w4 = Assessment.objects.get(participant=participant, timepoint="w4")
        links.append("/questionnaires/q/" + issue_link(w4).rstrip("/").rsplit("/", 1)[1] + "/")
    return LoadData(to_randomize, links)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(
    env: dict[str, str], workers: int = 4, timeout: float = 120
) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn with ``workers`` worker processes on a free loopback port; returns once it
    answers (or raises, with its output, after ``timeout`` seconds)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "blend.web.wsgi"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "60"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {process.stdout.read().decode()[-3000:]}")  # type: ignore[union-attr]
        try:
            if requests.get(f"{base}/accounts/login/", timeout=10).status_code == 200:
                return process, base
        except requests.RequestException:  # not listening yet, or a worker still booting
            pass
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn did not answer on {base} within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn (and, through its master, every worker): TERM, then KILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    if process.stdout:
        process.stdout.close()


def _token(response: requests.Response) -> str:
    found = CSRF.search(response.text)
    if not found:
        raise AssertionError(f"{response.url}: no CSRF token in the page")
    return found.group(1)


class _Client:
    def __init__(self, base: str, result: LoadResult, lock: threading.Lock) -> None:
        self.base, self.result, self.lock = base, result, lock

    def _request(
        self, session: requests.Session, kind: str, method: str, path: str, expect: int, **kw: Any
    ) -> requests.Response:
        started = time.perf_counter()
        response = session.request(
            method, self.base + path, timeout=30, allow_redirects=False, **kw
        )
        elapsed = time.perf_counter() - started
        with self.lock:
            self.result.requests += 1
            self.result.latencies.setdefault(kind, []).append(elapsed)
        if response.status_code != expect:
            raise AssertionError(f"{method} {path}: expected {expect}, got {response.status_code}")
        return response

    def login(self) -> requests.Session:
        session = requests.Session()
        page = self._request(session, "login", "GET", "/accounts/login/", 200)
        self._request(
            session,
            "login",
            "POST",
            "/accounts/login/",
            302,
            data={"username": NURSE, "password": PASSWORD, "csrfmiddlewaretoken": _token(page)},
        )
        return session

    def participant_list(self, staff: requests.Session) -> None:
        self._request(staff, "participant list", "GET", "/participants/", 200)

    def randomize(self, staff: requests.Session, study_id: str) -> None:
        path = f"/allocation/{study_id}/randomize/"
        form = self._request(staff, "randomization form", "GET", path, 200)
        self._request(
            staff, "randomization", "POST", path, 302, data={"csrfmiddlewaretoken": _token(form)}
        )

    def questionnaire(self, path: str) -> None:
        patient = requests.Session()  # a patient: no staff session, the link only
        page = self._request(patient, "questionnaire page", "GET", path, 200)
        token = _token(page)
        self._request(
            patient,
            "questionnaire page",
            "POST",
            path,
            302,  # saved; on to the next page
            data={"page": "0", "q1": "2", "csrfmiddlewaretoken": token},
        )
        sent = self._request(
            patient,
            "questionnaire submit",
            "POST",
            path,
            200,
            data={"page": "5", "action": "submit", "csrfmiddlewaretoken": token},
        )
        if 'data-testid="thanks"' not in sent.text:
            raise AssertionError(f"POST {path}: the thank-you page did not come")


def run(
    data: LoadData, base: str, *, lists: int, threads: int = 4, time_limit: float = 120
) -> LoadResult:
    """``lists`` participant-list views, every randomization and every questionnaire of
    ``data``, interleaved, from ``threads`` threads; stops taking work at ``time_limit``
    seconds (what is left counts as errors)."""
    work: queue.Queue[tuple[str, str]] = queue.Queue()
    jobs = [("list", "")] * lists
    jobs += [("randomize", s) for s in data.to_randomize]
    jobs += [("questionnaire", p) for p in data.questionnaires]
    # interleaved deterministically, so every kind runs alongside the others
    for _, job in sorted(enumerate(jobs), key=lambda item: (item[0] * 7919) % len(jobs)):
        work.put(job)
    result, lock = LoadResult(), threading.Lock()
    client = _Client(base, result, lock)
    deadline = time.monotonic() + time_limit

    def worker() -> None:
        try:
            staff = client.login()
        except Exception as error:  # noqa: BLE001 - counted, reported by the caller
            with lock:
                result.errors.append(f"login: {error}")
            return
        while time.monotonic() < deadline:
            try:
                kind, what = work.get_nowait()
            except queue.Empty:
                return
            try:
                if kind == "list":
                    client.participant_list(staff)
                elif kind == "randomize":
                    client.randomize(staff, what)
                else:
                    client.questionnaire(what)
            except Exception as error:  # noqa: BLE001 - counted, reported by the caller
                with lock:
                    result.errors.append(f"{kind} {what}: {error}")

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=time_limit + 60)
    result.seconds = time.perf_counter() - started
    left = work.qsize()
    if left:
        result.errors.append(f"time limit of {time_limit:.0f} s: {left} jobs not done")
    return result


def gunicorn_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a gunicorn run against ``database_url`` with the test settings'
    fixed keys (never a production secret), importing this checkout's code."""
    return {
        **os.environ,
        "BLEND_DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "blend.web.test_settings",
        "BLEND_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *sys.path]),
        **extra,
    }
