"""Outbound webhooks: endpoints per project, the relay from the event log to deliveries, signed
delivery with retries, the delivery log, and the Slack kind."""
