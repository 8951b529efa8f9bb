"""luister pipeline."""
