"""Reminder rule kinds: one module each, all listed in scheduler.kinds.registry."""
