"""luister connectors."""
