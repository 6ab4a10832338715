"""``g4f.providers``: the provider machinery (base classes, responses, retries)."""
