"""Analytics consumers: the event log into Apache Iceberg tables, queried with DuckDB SQL.

`chirp analytics sink` (`AnalyticsSink`) writes every event into one Iceberg table per event type,
exactly once; `chirp analytics query` (`query`) runs SQL over them; `sink_lag` tells how far
behind the log the sink is; `AnalyticsSinkProcess` runs the sink under `chirp up`. Its settings
are `Settings.analytics` (`CHIRP_ANALYTICS_*`), part of Chirp's one settings object. This package
only reads the event topics: it never produces to Kafka and never touches the projections.
"""

from infra.analytics.query import QueryError, QueryResult, query
from infra.analytics.sink import AnalyticsSink, SinkError, SinkStats, sink_lag

__all__ = [
    "AnalyticsSink",
    "QueryError",
    "QueryResult",
    "SinkError",
    "SinkStats",
    "query",
    "sink_lag",
]
