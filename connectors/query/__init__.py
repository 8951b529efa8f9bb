"""The brand query language: parse once, match fast, plain Python with no I/O (syntax: docs/queries.md).

>>> qs = QuerySet([BrandQuery(brand="Veloxa", query="veloxa OR @veloxa OR #veloxa")])
>>> [m.match_type for m in qs.match_text("Love my #Veloxa")]
['hashtag']
"""

from connectors.query.nodes import Node, to_text
from connectors.query.queryset import BrandQuery, QuerySet
from connectors.query.syntax import QuerySyntaxError, parse

__all__ = ["BrandQuery", "Node", "QuerySet", "QuerySyntaxError", "parse", "to_text"]
