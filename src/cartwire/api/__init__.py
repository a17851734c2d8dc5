"""cartwire over HTTP. For now only the webhook receiver (`cartwire webhooks serve`); the full
HTTP API comes with the API/UI work and mounts these routes."""
