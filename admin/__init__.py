"""python -m admin: the operators' console over the same services the API uses."""
