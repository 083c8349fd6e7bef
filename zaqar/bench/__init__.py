"""``zaqar-bench``: load generator speaking only the public wire API (REST or websocket)."""
