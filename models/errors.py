"""Errors raised by the model backends. ``models`` imports nothing from the project, so the
service maps these to its own domain errors where it builds the models (``matcher.wiring``)."""

from __future__ import annotations


class ModelError(Exception):
    """Base of every error raised by ``models``."""


class MissingModelDependency(ModelError):
    """A backend's package or weights are not installed; the message names what to install."""


class UnknownBackend(ModelError, ValueError):
    """No backend is registered under that name."""


class BadEncoderInput(ModelError, TypeError):
    """``encode_*`` was called with something other than a list of strings."""


class ArtifactMismatch(ModelError, ValueError):
    """A saved model does not fit the caller: other features, other library versions, a changed
    or unknown file. The message says what differs; the model is not loaded."""


class PromotionRefused(ModelError):
    """A model was not promoted: it is not shown to rank better than the current one."""


class RegistryError(ModelError, ValueError):
    """A registry operation that cannot be done (unknown model, nothing to roll back)."""


class ModelFileError(ModelError, ValueError):
    """A shipped model file cannot be used (unknown format, shapes that do not match)."""
