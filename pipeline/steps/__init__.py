"""The worker's steps, each a small pure(ish) unit with no Faust or client imports:
decode → dedup → enrich → (sink). The Faust agents in :mod:`pipeline.agents` only wire them together."""
