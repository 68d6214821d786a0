"""A local stand-in for SevenDar (the card printing and delivery supplier), for the local stack and tests."""
