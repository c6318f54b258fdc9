"""The bottom layer: neutral message model, settings, ports, text folding and labels."""
