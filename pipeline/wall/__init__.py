"""The built-in wall page of ``luister run``: the wall dashboard's key panels on one dark, large-type page.

- :mod:`pipeline.wall.panels`: which panel queries the page shows (from ``dashboards/panels``, never SQL from the
  browser) and how a request (brand, hours) renders them into plain ClickHouse SQL.
- :mod:`pipeline.wall.data`: runs them through a read-only SQL runner and shapes the results into JSON: rows per
  panel, chart series per time-series panel, the brand list and the open incidents.
- :mod:`pipeline.wall.assets`: the page and its static files (our JS/CSS and the vendored uPlot), package files.
- :mod:`pipeline.wall.web`: the worker's thin Faust views (``/wall``, ``/wall/data``, ``/wall/static/...``).

All but ``web`` are plain Python without I/O of their own, tested in milliseconds.
"""
