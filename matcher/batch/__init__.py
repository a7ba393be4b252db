"""Batch jobs on Ray: bulk encoding (:mod:`matcher.batch.encode`) and the nightly re-match of
every active profile against every open post (:mod:`matcher.batch.rematch`).

Ray is imported only when a job runs on it (:mod:`matcher.batch.cluster`); the same shard code
runs in process (``executor="local"``), which is the single-process reference the Ray path is
tested against.
"""
