"""FHIR R4 export, read-only: the API's ``/api/fhir/...`` and ``blend export fhir DIR``.

The resources are built by the pure ``blend.interop.fhir_export``; this app reads the
records, with the permissions of the REST API, and hands over plain values."""
