"""Reminder rules, outbox and delivery."""
