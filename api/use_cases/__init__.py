"""Use cases between HTTP and the domain: `handlers` (the rules), `ports` (what they need),
`errors` (why they refuse) and `adapters` (the ports on Redis and Kafka)."""
