"""Reading a decision (text, CSV, XLSX) into tasks and agencies."""
