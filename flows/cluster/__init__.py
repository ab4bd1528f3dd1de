"""Many workers on one Prefect work pool: the dispatcher, the pool's flow, PostgreSQL and recovery.

Kept apart from the single-machine appliance (``flows/appliance.py``, ``flows/worker.py``), which
this package builds on and never the other way round. Modules:

- ``dispatcher``: ``docval cluster up``, starting one ``process-files`` run per batch of inbox files;
- ``pool``: the work pool's flow and its workers, each a ledger shard;
- ``postgres``: the Prefect server's PostgreSQL database for many workers;
- ``recovery``: run locks, and finishing what a dead run left in ``work/``;
- ``cli``: the ``docval cluster`` commands.
"""
