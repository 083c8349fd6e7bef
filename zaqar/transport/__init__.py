"""Transports: how requests arrive. Each parses, calls an action of zaqar.api, renders."""
