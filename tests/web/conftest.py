"""Django test fixtures come from tests/personas.py (loaded as a plugin by tests/conftest.py,
so browser tests share them); the names are re-exported here for imports."""

from tests.personas import PASSWORD, PERSONAS  # noqa: F401
