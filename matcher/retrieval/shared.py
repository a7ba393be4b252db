"""Tokenizers and occupation coders shared by the services of one process.

Building either costs seconds (jieba's dictionary; tokenising and encoding the whole taxonomy)
and neither changes once built, so services over the same reference data and encoder share
them. A cache is an object handed to each service; ``matcher.wiring.PROCESS_MODELS`` is the
process's (tests share it too). A service given no cache builds its own.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path

from matcher.reference.occupations import Taxonomy
from matcher.retrieval.lexical import Tokenizer
from matcher.retrieval.occupation_coder import OccupationCoder
from models.encoders import Encoder


class SharedModels:
    """A thread-safe cache of tokenizers (by their words) and occupation coders (by encoder,
    reference data and tokenizer)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokenizers: dict[str, Tokenizer] = {}
        self._coders: dict[tuple[str, str, str, str | None], OccupationCoder] = {}
        self._static: dict[str, Encoder | None] = {}

    def tokenizer(self, words: Sequence[str]) -> Tokenizer:
        """The tokenizer keeping ``words`` whole (in this order) besides the built-in domain words."""
        key = hashlib.sha256("\n".join(words).encode("utf-8")).hexdigest()
        with self._lock:
            tok = self._tokenizers.get(key)
            if tok is None:
                # the same dictionary, word order and fingerprint as default_tokenizer().derive(words),
                # without first building the default one (jieba's dictionary is loaded once, not twice)
                tok = self._tokenizers[key] = Tokenizer(words)
            return tok

    def coder(self, taxonomy: Taxonomy, encoder: Encoder, tokenizer: Tokenizer, *, reference_dir: Path,
              cache_dir: Path | None, query_encoder: Encoder | None = None) -> OccupationCoder:
        """The occupation coder of a taxonomy (read from ``reference_dir``) for an encoder
        (by name) and, for the fast coder, a title encoder, built on first use; its taxonomy
        vectors are cached in ``cache_dir``."""
        key = (encoder.name, str(reference_dir), tokenizer.fingerprint(),
               None if query_encoder is None else query_encoder.name)
        with self._lock:
            coder = self._coders.get(key)
            if coder is None:
                coder = self._coders[key] = OccupationCoder(taxonomy, encoder, cache_dir=cache_dir,
                                                            tokenizer=tokenizer, query_encoder=query_encoder)
            return coder

    def static_for(self, teacher: Encoder) -> Encoder | None:
        """The shipped static encoder (``static-e5``) when it was distilled from ``teacher``
        (by name), loaded once; None without its artifact or for another teacher."""
        from models.encoders.static import ARTIFACT, StaticEncoder, artifact_teacher

        with self._lock:
            if teacher.name not in self._static:
                enc = None
                if ARTIFACT.exists() and artifact_teacher(ARTIFACT) == teacher.name:
                    enc = StaticEncoder(ARTIFACT)
                self._static[teacher.name] = enc
            return self._static[teacher.name]
