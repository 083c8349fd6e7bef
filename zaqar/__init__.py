"""A multi-tenant messaging and notification service speaking OpenStack Zaqar's v2 wire API."""
