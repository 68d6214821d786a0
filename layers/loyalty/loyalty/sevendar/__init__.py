"""SevenDar: the supplier that prints and delivers our gift cards and plastic loyalty cards.

``client`` calls its API (with retries that are safe to repeat); ``webhooks`` verifies the signed
status updates it sends back.
"""
