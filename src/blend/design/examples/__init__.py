"""Scenario grids (TOML) for `blend simulate --grid`; a package so that they ship in wheels."""
