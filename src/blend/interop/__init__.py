"""``blend.interop``: exchange with hospital and registry systems (FHIR R4), pure code.

No Django here (``python -m blend.lint_pure_core`` checks it): the apps hand in plain
values and get FHIR resources (JSON-ready dicts) back. docs/interoperability.md.
"""
