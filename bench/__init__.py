"""make bench: speed, DynamoDB calls per operation and cold start, each measured against its baseline."""
