"""The write path's rooms: settings, HTTP client, request bodies; nothing of prefect imported."""
