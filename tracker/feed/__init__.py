"""The change feed: subscriptions, signed webhook deliveries and the server-sent event stream.

signing (Standard Webhooks secrets and signatures), targets (which URLs may be called),
outbound (the HTTP client that calls them), payload (the CloudEvents body), store (the
subscriptions' tables), deliverer (the loop that delivers, retries and dead-letters).
"""
