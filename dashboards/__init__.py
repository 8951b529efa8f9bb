"""luister's dashboards: every panel query in one place (``panels``), the Grafana dashboards built from them
(``grafana``, written by ``generate`` to ``generated/``), and Grafana provisioning (``provisioning/``).
See docs/dashboards.md."""
