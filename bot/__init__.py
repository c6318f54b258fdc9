"""Neutral message model, router, platform adapters, CLI and composition root."""
