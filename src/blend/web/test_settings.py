"""Settings for the test suite: the production module with safe test defaults.

The environment still wins (e.g. BLEND_DATABASE_URL for the PostgreSQL pass).
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("BLEND_DEBUG", "1")
os.environ.setdefault("BLEND_SECURE", "0")
os.environ.setdefault(
    "BLEND_RANDOMIZATION_SEED", "5eed" * 16
)  # fixed test seed, never a production one
os.environ.setdefault("BLEND_RANDOMIZATION_SEED_VERTICAL", "7e57" * 16)
os.environ.setdefault("BLEND_RANDOMIZATION_SEED_PALLIATE", "ba11" * 16)
os.environ.setdefault("BLEND_CHAIN_KEY", "c4a1" * 16)  # fixed test chain keys
os.environ.setdefault("BLEND_CHAIN_KEY_VERTICAL", "c4a2" * 16)
os.environ.setdefault("BLEND_CHAIN_KEY_PALLIATE", "c4a3" * 16)
os.environ.setdefault("BLEND_LINKAGE_KEY", "1174" * 16)  # fixed test linkage secret
# Anchor files go to a folder of this test process, never to the checkout's var/.
# (A process started by a test inherits the folder and leaves its removal to the test run.)
if "BLEND_CHAIN_ANCHOR_DIR" not in os.environ:
    os.environ["BLEND_CHAIN_ANCHOR_DIR"] = tempfile.mkdtemp(prefix="blend-test-anchors-")
    atexit.register(shutil.rmtree, os.environ["BLEND_CHAIN_ANCHOR_DIR"], ignore_errors=True)
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
