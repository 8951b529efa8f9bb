"""luister dashboards."""
