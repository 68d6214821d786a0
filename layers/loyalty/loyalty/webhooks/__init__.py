"""Outgoing webhooks, as plain Python: the event types and their payloads, Standard Webhooks
signatures, which URLs may be called, the retry schedule and when an endpoint is disabled, and the
HTTP sender that refuses addresses it must not reach."""
