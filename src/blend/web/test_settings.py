"""Settings for the test suite: the production module with safe test defaults.

The environment still wins (e.g. BLEND_DATABASE_URL for the PostgreSQL pass).
"""

import os

os.environ.setdefault("BLEND_DEBUG", "1")
os.environ.setdefault("BLEND_SECURE", "0")
os.environ.setdefault(
    "BLEND_RANDOMIZATION_SEED", "5eed" * 16
)  # fixed test seed, never a production one
os.environ.setdefault("BLEND_RANDOMIZATION_SEED_VERTICAL", "7e57" * 16)
os.environ.setdefault("BLEND_RANDOMIZATION_SEED_PALLIATE", "ba11" * 16)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API in browser tests
# No installed translations unless a test installs one: a developer's var/translations
# must not change what the tests see.
os.environ.setdefault("BLEND_INSTRUMENT_TRANSLATIONS_DIR", "")
# Nor may the local.env in var/ that `make demo` leaves in a developer's checkout.
os.environ.setdefault("BLEND_LOCAL_SETTINGS", "")

from blend.web.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher"
]  # fast tests; Argon2 is tested explicitly
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
