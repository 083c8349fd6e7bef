"""The Redis storage driver: every change one Lua script, keys laid out in keys.py."""
