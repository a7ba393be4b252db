"""Encoders by name: ``create_encoder("e5")``; backends import their libraries only when built."""

from __future__ import annotations

from collections.abc import Callable

from models.encoders.base import Encoder
from models.errors import UnknownBackend


def _e5(model: str | None = None) -> Encoder:
    from models.encoders.e5 import E5Encoder

    return E5Encoder()


def _st(model: str | None = None) -> Encoder:
    from models.encoders.sentence_transformers import SentenceTransformerEncoder

    return SentenceTransformerEncoder(model)


def _static(model: str | None = None) -> Encoder:
    from models.encoders.static import StaticEncoder

    return StaticEncoder(model)


def _fake(model: str | None = None) -> Encoder:
    from models.encoders.fake import FakeEncoder

    return FakeEncoder(int(model) if model else 64)


class EncoderRegistry:
    """Factories by name. The default registry holds the built-in backends; a caller that
    registers its own builds a registry of its own rather than changing the shared one."""

    def __init__(self, factories: dict[str, Callable[..., Encoder]] | None = None) -> None:
        self._factories = dict(factories or {"e5": _e5, "sentence-transformers": _st, "static-e5": _static,
                                            "fake": _fake})

    def register(self, name: str, factory: Callable[..., Encoder]) -> None:
        self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str = "e5", model: str | None = None) -> Encoder:
        try:
            factory = self._factories[name]
        except KeyError:
            raise UnknownBackend(f"未知编码器 {name!r}，可选：{', '.join(self.names())}") from None
        return factory(model)


DEFAULT_ENCODERS = EncoderRegistry()


def encoder_names() -> list[str]:
    return DEFAULT_ENCODERS.names()


def create_encoder(name: str = "e5", model: str | None = None) -> Encoder:
    """Build a built-in encoder by name; ``model`` is the backend's model path or option."""
    return DEFAULT_ENCODERS.create(name, model)
