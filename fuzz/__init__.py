"""Fuzz targets and the atheris runner for mimeguard (see docs/fuzzing.md)."""
