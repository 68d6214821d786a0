"""Data access: PynamoDB models and small repositories over them. No domain rules here."""
