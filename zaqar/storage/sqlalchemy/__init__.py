"""SQL storage driver on SQLAlchemy Core: SQLite (embedded default), PostgreSQL, MariaDB/MySQL."""
