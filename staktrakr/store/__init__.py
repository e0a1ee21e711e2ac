"""All database access: libsql-client, schema + additive migrations, idempotent writes, outbox,
and every read in query modules by subject (store/queries/)."""

from staktrakr.store.database import Database, display_url
from staktrakr.store.outbox import Outbox
from staktrakr.store.session import PrepareResult, ReplayResult, Store, WriteResult

__all__ = ["Database", "Outbox", "PrepareResult", "ReplayResult", "Store", "WriteResult", "display_url"]
