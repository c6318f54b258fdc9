"""Platform adapters: the only place that may import a messaging library."""
