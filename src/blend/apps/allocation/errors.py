"""Why a randomization was refused: the errors ``services.randomize`` raises."""

from __future__ import annotations


class AllocationError(Exception):
    """Randomization refused; the message says why and what to do."""


class NotEligible(AllocationError):
    pass


class ConsentMissing(AllocationError):
    pass


class AlreadyRandomized(AllocationError):
    pass


class RandomizationUnavailable(AllocationError):
    """The seed is missing or does not match the recorded commitment."""
