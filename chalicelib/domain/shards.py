"""How many shards each sharded key space has: read by the store that shards it and by the job registry
(chalicelib/jobs.py), which fans a job out to one worker per shard without importing the store.

Never lower one: items keep the shard they were written under.
"""
ADOPTIONS = 64  # store/trees.py: adoptions in their accrual year, on the sparse `accruing` index
ACCOUNTS = 64  # store/privacy.py: the account list that points expiry and erasure walk
NUDGES = 8  # store/nudges.py: the holders, retries and receipts of the nudges table, and the `due` index's shards
REDEMPTIONS_DUE = 8  # store/market.py: issued redemptions on the sparse `due` index the expiry job walks
TRANSPARENCY = 256  # domain/transparency.py: the leaves of a platform's day, by entry id (GSI `by_root` on the ledger)
