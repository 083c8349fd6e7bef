"""REST transport: Falcon resources mapping Zaqar v2 routes to actions of the api layer."""
