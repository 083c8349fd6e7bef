"""The SQL management store: pools, flavors and the catalog (zaqar.storage.management)."""
