"""Building an encoder for the service: OpenMP set up explicitly for the e5 engine, and the model
package's errors turned into the service's domain errors."""

from __future__ import annotations

from matcher.core.errors import InvalidInput, MissingDependency
from models.encoders import Encoder, create_encoder
from models.encoders.e5 import configure_openmp
from models.errors import MissingModelDependency, UnknownBackend


def build_encoder(name: str = "e5", model: str | None = None, *, threads: int | None = None) -> Encoder:
    """The named encoder; ``threads`` (default: the CPUs this process may use) sizes e5's OpenMP pool."""
    if name == "e5":
        configure_openmp(threads)
    try:
        return create_encoder(name, model)
    except UnknownBackend as exc:
        raise InvalidInput(str(exc)) from exc
    except MissingModelDependency as exc:
        raise MissingDependency(str(exc)) from exc
