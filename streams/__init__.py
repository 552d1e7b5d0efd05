"""The Faust stream processor: the app, its topics (declared once) and thin agents.

Agents decode records, hand them to projections and let Faust acknowledge; all the logic
of what an event means lives in `projections/` and `domain/`.
"""
