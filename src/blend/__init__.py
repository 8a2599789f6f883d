"""BLEND trial platform.

The pure core (no Django) lives in ``blend.protocol``, ``blend.instruments``,
``blend.eligibility``, ``blend.randomization``, ``blend.design`` and ``blend.stats``.
The Django project lives in ``blend.web`` and its apps in ``blend.apps``.
"""

__version__ = "0.1.0"
