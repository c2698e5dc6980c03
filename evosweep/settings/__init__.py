"""Validated settings from the composed Hydra config (no torch import):
RunSettings, build_settings, field checks."""
