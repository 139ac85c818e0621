"""Storage: the schema, its migrations, and connections to the embedded or PostgreSQL store.

Everything above this package talks to the store through SQLAlchemy Core and the tables
declared in ``schema``; ``open_store`` hands out a ready ``Store`` whatever the backend.
"""

from faisceau.store.engine import Store, StoreUnavailable, open_store

__all__ = ["Store", "StoreUnavailable", "open_store"]
