"""CLI commands: placeholder until this area lands."""
