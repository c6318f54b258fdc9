"""Platform-free command handlers: Incoming + services in, Reply list out."""
