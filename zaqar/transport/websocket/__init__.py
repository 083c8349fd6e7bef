"""Websocket transport: an Autobahn server on Twisted calling the same actions as REST."""
