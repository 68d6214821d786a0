"""Pure domain logic: plain typed Python, no AWS. Takes "now" and data as arguments."""
