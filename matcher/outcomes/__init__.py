"""Learning from outcomes, on the service's side: pair features from the service's scoring
(``features``) and a SYNTHETIC outcome simulator to develop and test re-rankers before real
events exist (``synthetic``). The models themselves live in ``models.rerankers``."""
