"""Notifications (SMS, push, email) as pure domain logic: what may be sent, in which words, and when.

Nothing here talks to AWS: the notify function feeds it the member's consents, the merchant's
templates and "now", and delivers whatever it decides. Modules:

- ``kinds``: the kinds of notification, their placeholders, marketing or transactional, channels.
- ``plural``: Russian and English plural forms ("1 балл", "5 баллов").
- ``templates``: default and merchant templates, a safe renderer, validation and previews.
- ``sms``: how many SMS segments a text costs.
- ``quiet_hours``: the member's night, in the merchant's time zone.
- ``rules``: send now, later, or not at all.
- ``sending``: the message a provider is asked to send, and the provider interface (the SNS and
  SES providers themselves are in ``loyalty.platform.providers``).
"""
