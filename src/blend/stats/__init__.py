"""Statistical analysis of the cohort's TwiCs trials, BLEND and VERTICAL (pure Python, no Django).

Estimators follow the lifelines convention: options in ``__init__``, ``fit(df)``
returns ``self``, fitted attributes end in ``_`` and ``summary`` is a DataFrame.
``blend.stats.analysis.run_analysis`` computes every analysis of
``docs/contracts/analysis-dataset.md``; ``blend analyze`` is its command line.
"""
