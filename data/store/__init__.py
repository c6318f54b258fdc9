"""Models, database access and repositories: where rows are read and written."""
