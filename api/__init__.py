"""The HTTP API: writes turn requests into events on the log; reads query projections only."""
