"""One module per source. Each exposes ``SOURCE`` (its name on the command line) and
``build(name: str, options: Mapping[str, Any]) -> Connector``, which validates ``options`` with the module's own
pydantic config model and raises ``ValueError`` with a clear message when they are wrong.
``connectors.registry`` finds them by name."""
