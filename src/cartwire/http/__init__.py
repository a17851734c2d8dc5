"""Transport: pooled clients, rate limits that queue, retries (the resources issue adds more)."""
