"""Yearly reports: the summary and its Excel, Word, chart, JSON and text forms."""
