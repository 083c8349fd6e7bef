"""The MongoDB data driver (pymongo)."""
