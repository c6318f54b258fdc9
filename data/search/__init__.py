"""Lookup: the search engine, question understanding, facts and vocabulary."""
