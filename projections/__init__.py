"""Read models derived from the event log, one module per projection.

Each projection owns its Redis keys under `chirp:{name}:v{version}:`, knows how each event it
cares about changes them (idempotently) and how they are read. A projection never produces
events and never reads another projection's keys while applying.
"""
