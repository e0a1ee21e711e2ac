"""Every read of the shared database (and the catalog's table sync), one module per subject.

- prices.py: `price_snapshots` (publish's retail data, previous-day medians, a poller's window,
  retail freshness and this hour's coverage)
- spot.py: `spot_prices` (publish's slots and seeds, newest plausible values, slot and gap checks)
- goldback.py: `goldback_rates`
- runs.py: `poller_runs` and `provider_failures` (metrics and status)
- catalog.py: `provider_coins` / `provider_vendors` <-> the catalog
- status.py: what `staktrakr db status` reports about every table
- dashboard.py: the operator dashboard's reads beyond `status` (one batch)
- timestamps.py: time filters that read both timestamp shapes the tables hold
- watermark.py: the newest rows of the tables publish's tree is built from (its unchanged check)
- snapshot.py: `db snapshot`, the published tables as one read-only SQLite file

Row writes are in store/writes.py, schema in store/schema.py. Every function takes the open
`Store`; a read that a job can do without returns None (or empty) when the database cannot be
reached, the others raise StoreUnavailable / StatementRejected.
"""
