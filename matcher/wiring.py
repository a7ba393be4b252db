"""Where services are built: the process's shared models and ``build_service``.

:data:`PROCESS_MODELS` is the one cache of tokenizers and occupation coders of this process
(building them takes seconds; see :class:`matcher.retrieval.shared.SharedModels`): every service
built here shares it, the CLI's, the API's and the tests'. A service constructed directly
(``MatchService(settings, ...)``) shares it only when given ``shared=PROCESS_MODELS``.
"""

from __future__ import annotations

from matcher.core.settings import Settings, Weights
from matcher.retrieval.shared import SharedModels
from matcher.service import MatchService
from matcher.storage.store import Store
from models.encoders import Encoder

PROCESS_MODELS = SharedModels()


def build_service(settings: Settings, *, encoder: Encoder | None = None, store: Store | None = None,
                  weights: Weights | None = None, shared: SharedModels | None = None) -> MatchService:
    """A service over ``settings`` (its own store and encoder unless given), sharing the
    process's tokenizers and occupation coders (or those of ``shared``)."""
    return MatchService(settings, encoder=encoder, store=store, weights=weights,
                        shared=shared or PROCESS_MODELS)
