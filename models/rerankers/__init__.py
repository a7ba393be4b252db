"""Re-rankers of (talent, demand entry) pairs from their feature vectors, learned from outcomes.

- ``base``: the interface (``Reranker``) and the feature names shared with the service.
- ``weighted``: the service's hand-set formula, bit for bit (the baseline).
- ``learned``: ``hgb``, gradient-boosted trees with monotonic constraints, trained on graded
  outcomes, position bias absorbed, calibrated on a later slice; per-pair contributions.
- ``labels``: events to graded labels; ``data``: ``PairTable``; ``metrics``: nDCG@10, MAP, AUC,
  bootstrap intervals, reliability; ``evaluation``: event logs and time splits;
  ``artifacts``: save/load with a manifest; ``registry``: train, evaluate, promote, roll back;
  ``plots``: the reliability diagram as SVG.

``models`` imports nothing from the project; scikit-learn is imported only where a model is
fitted or loaded.
"""

from models.rerankers.base import (
           COMPONENTS,
           EMPLOYER_FEATURES,
           SEEKER_FEATURES,
           SIDE_FEATURES,
           Reranker,
           columns_matrix,
)
from models.rerankers.data import PairTable
from models.rerankers.evaluation import EventLog, calibration_report, compare_rankers, time_split
from models.rerankers.learned import DEFAULT_FEATURES, POSITION, LearnedReranker, fit_reranker
from models.rerankers.weighted import WeightedReranker

__all__ = ["COMPONENTS", "DEFAULT_FEATURES", "EMPLOYER_FEATURES", "POSITION", "SEEKER_FEATURES", "SIDE_FEATURES",
           "EventLog", "LearnedReranker", "PairTable", "Reranker", "WeightedReranker", "calibration_report",
           "columns_matrix", "compare_rankers", "fit_reranker", "time_split"]
