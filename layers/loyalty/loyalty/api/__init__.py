"""The HTTP/queue contract as typed models (pydantic): what handlers parse and return, and what
the OpenAPI document is generated from."""
