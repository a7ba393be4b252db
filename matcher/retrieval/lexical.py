"""Lexical retrieval: jieba tokenisation of Chinese/English text and a BM25 index over it.

A :class:`Tokenizer` holds its own jieba dictionary (a ``jieba.Tokenizer`` instance, never the
module-wide one) with the domain words it keeps whole; it is immutable once built, so token
lists, and the fingerprint under which they are cached, depend only on its words. A service
and its occupation coder share one tokenizer (built by ``matcher.wiring``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.core.errors import InvalidInput
from matcher.core.textnorm import normalize_text

log = logging.getLogger(__name__)

__all__ = ["STOPWORDS", "DOMAIN_WORDS", "BM25Index", "Tokenizer", "default_tokenizer", "tokenize",
           "save_token_cache", "load_token_cache"]

# bump when Tokenizer.tokenize() changes in a way that changes its output
TOKENIZER_VERSION = 1

# Function words and boilerplate of job descriptions that carry no matching signal.
STOPWORDS: frozenset[str] = frozenset(
    """
    的 地 得 了 着 过 和 与 及 跟 同 等 在 或 并 且 而 对 为 是 有 以 于 将 把 被 从 之 其 也 就 都
    又 还 能 会 可 个 各 该 此 这 那 些 我 你 他 她 它 们 中 上 下 内 外 由 向 至 到 让 使 如 若
    负责 相关 能力 具备 熟悉 掌握 优先 以上 以下 及以上 以及 或者 并且 进行 能够 良好 一定 具有
    了解 精通 我们 公司 等等 包括 其他 其它 较强 具有 一种 一些 有关 方面 要求 任职 职责 岗位职责
    任职要求 优先考虑 者优先 善于 熟练 熟练掌握 负责人员
    a an and or the of with in for to on at by as is are be from
    """.split()
)

# Domain terms every tokenizer keeps whole, before the words it is built with.
DOMAIN_WORDS: tuple[str, ...] = (
    "大数据",
    "人工智能",
    "云计算",
    "区块链",
    "物联网",
    "工业互联网",
    "数字孪生",
    "智能制造",
    "集成电路",
    "机器学习",
    "深度学习",
    "数据分析",
    "数据挖掘",
    "数据库",
    "数据仓库",
    "网络安全",
    "信息安全",
    "数据安全",
    "自然语言处理",
    "计算机视觉",
    "虚拟现实",
    "增强现实",
    "新能源",
    "新能源汽车",
    "数字化",
    "智能网联",
    "嵌入式",
    "运维",
    "全栈",
    "前端",
    "后端",
    "算法",
    "工程技术人员",
    "数字技术工程师",
)

def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover - depends on the environment
        return "?"


def _default_engine() -> str:
    from importlib.util import find_spec

    # rjieba is a dependency; without it Python jieba cuts the same, only slower
    return "rjieba" if find_spec("rjieba") is not None else "jieba"


DEFAULT_ENGINE = _default_engine()

# Latin/number tokens: python, c++, c#, .net, vue.js, node.js, 5g, tcp, 3.5, k-means
_LATIN = r"\.?[a-z0-9]+[+#]*(?:[.\-][a-z0-9]+[+#]*)*"
_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
_TOKEN = re.compile(f"({_LATIN})|({_CJK})")
_COMPOUND_SPLIT = re.compile(r"[.\-]")
_HAS_LETTER = re.compile(r"[a-z]")


def save_token_cache(path: Path, token_lists: Mapping[str, Sequence[str]], fingerprint: str) -> None:
    """Token lists keyed by text hash, as one .npz of integer arrays (no pickle), written atomically."""
    vocab: dict[str, int] = {}
    keys = list(token_lists)
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    flat: list[int] = []
    for n, key in enumerate(keys):
        flat.extend(vocab.setdefault(t, len(vocab)) for t in token_lists[key])
        offsets[n + 1] = len(flat)

    def blob(text: str) -> np.ndarray:
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, fingerprint=blob(fingerprint), keys=blob("\n".join(keys)), vocab=blob("\n".join(vocab)),
                     offsets=offsets, tokens=np.asarray(flat, dtype=np.int32))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_token_cache(path: Path, fingerprint: str) -> dict[str, list[str]]:
    """The token lists saved by save_token_cache; empty when missing, unreadable or made under
    another tokenizer fingerprint (it is a cache: the caller tokenises what is not there)."""
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            if bytes(data["fingerprint"]).decode("utf-8") != fingerprint:
                return {}
            keys_blob, vocab_blob = bytes(data["keys"]).decode("utf-8"), bytes(data["vocab"]).decode("utf-8")
            offsets, tokens = data["offsets"], data["tokens"]
    except (OSError, ValueError, KeyError, UnicodeDecodeError):
        return {}
    keys = keys_blob.split("\n") if keys_blob else []
    vocab = np.array(vocab_blob.split("\n") if vocab_blob else [], dtype=object)
    if len(offsets) != len(keys) + 1 or (len(tokens) and (tokens.max() >= len(vocab) or tokens.min() < 0)):
        return {}
    words = vocab[tokens].tolist() if len(tokens) else []
    return {k: words[offsets[i] : offsets[i + 1]] for i, k in enumerate(keys)}


class Tokenizer:
    """Lower-cased BM25 tokens with a private jieba dictionary holding :data:`DOMAIN_WORDS`
    and the words given at construction (skills, occupation names), in that order.

    Registering words changes how jieba cuts text, so a tokenizer takes its words once, when
    it is built: every text it ever tokenises sees the same dictionary. ``derive(words)``
    builds a new tokenizer from this one's dictionary plus ``words``. Thread-safe.

    ``engine`` is ``"rjieba"`` (jieba-rs, the default: the same cuts as Python jieba on every
    Chinese run of the demo records and the real titles, checked by a test, and about 14x
    faster) or ``"jieba"`` (the Python original).
    """

    def __init__(self, words: Iterable[str] = (), *, _base: Tokenizer | None = None,
                 engine: str | None = None) -> None:
        engine = engine or (_base.engine if _base is not None else DEFAULT_ENGINE)
        if engine not in ("jieba", "rjieba"):
            raise InvalidInput(f"unknown tokenizer engine {engine!r}")
        self.engine = engine
        new = [w for w in (normalize_text(w or "").lower().strip() for w in words) if len(w) >= 2]
        # the words in the order they reached the dictionary: the order decides the cuts
        self._ordered: list[str] = [*(_base._ordered if _base is not None else DOMAIN_WORDS), *new]
        self._words: set[str] = (set(_base._words) if _base is not None else set()) | set(new)
        self._engine_lock = threading.Lock()
        self._rjieba_built: Any = None
        if engine == "rjieba":
            # the dictionary (about 0.2 s to load) is built when the first text is tokenised: a
            # command that never tokenises (a status, a key) does not pay for it
            self._version = f"rjieba-{_package_version('rjieba')}"
        else:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            logging.getLogger("jieba").setLevel(logging.WARNING)
            self._version = getattr(jieba, "__version__", "?")
            self._jieba: Any = jieba.Tokenizer()
            if _base is None or _base.engine != "jieba":
                self._jieba.initialize()
                for word in self._ordered[: len(self._ordered) - len(new)]:
                    self._jieba.add_word(word)
            else:
                # jieba's state is its frequency table and total (a built tokenizer never
                # changes them again): a copy cuts text exactly as the base does
                self._jieba.FREQ = dict(_base._jieba.FREQ)
                self._jieba.total = _base._jieba.total
                self._jieba.initialized = True
            for word in new:
                self._jieba.add_word(word)
        self._fingerprint = self._compute_fingerprint()

    @property
    def _rjieba(self) -> Any:
        """This tokenizer's rjieba instance with its words, built on first use."""
        built = self._rjieba_built
        if built is None:
            with self._engine_lock:
                built = self._rjieba_built
                if built is None:
                    built = _new_rjieba()
                    for word in self._ordered:
                        built.add_word(word, None, None)
                    self._rjieba_built = built
        return built

    def derive(self, words: Iterable[str]) -> Tokenizer:
        """A new tokenizer with this one's dictionary plus ``words`` (this one is unchanged)."""
        return Tokenizer(words, _base=self)

    @property
    def words(self) -> frozenset[str]:
        """The words registered beyond :data:`DOMAIN_WORDS` (normalised, lower-cased)."""
        return frozenset(self._words)

    def fingerprint(self) -> str:
        """What the token lists depend on: the tokenizer's version, jieba's, the stop words and
        the registered words. Cached token lists are valid only under the same fingerprint."""
        return self._fingerprint

    def _compute_fingerprint(self) -> str:
        words = sorted(set(DOMAIN_WORDS) | self._words)
        h = hashlib.sha256()
        for part in (str(TOKENIZER_VERSION), self._version, *sorted(STOPWORDS), "|", *words):
            h.update(part.encode("utf-8") + b"\0")
        return h.hexdigest()[:16]

    def _cjk_tokens(self, run: str, bigrams: bool) -> list[str]:
        """Search-mode jieba tokens of a Chinese run, optionally plus its character bigrams."""
        cut = self._rjieba.cut_for_search(run, True) if self.engine == "rjieba" else self._jieba.lcut_for_search(run)
        out = [t for t in cut if t.strip()]
        if bigrams and len(run) > 2:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
        return out

    def tokenize(self, text: str, *, bigrams: bool = False) -> list[str]:
        """Lower-cased BM25 tokens of `text`: jieba words of Chinese runs and whole English/number terms.

        Chinese runs use jieba's search mode, which also emits the sub-words of long words
        ("技术人员" -> "技术", "人员", "技术人员"), so related titles share tokens. Character
        bigrams (`bigrams=True`) are off by default: on a sample of 38 job titles against 30 CSCO
        digital occupations they left MRR unchanged (0.759 vs 0.760) while doubling the index.
        """
        if not text:
            return []
        text = normalize_text(text).lower()
        tokens: list[str] = []
        for match in _TOKEN.finditer(text):
            latin, cjk = match.group(1), match.group(2)
            if latin:
                if latin in STOPWORDS:
                    continue
                tokens.append(latin)
                if _HAS_LETTER.search(latin) and _COMPOUND_SPLIT.search(latin.lstrip(".")):
                    # "vue.js" also matches "vue"; numbers such as "3.5" stay whole
                    tokens.extend(p for p in _COMPOUND_SPLIT.split(latin) if p and p not in STOPWORDS)
            else:
                tokens.extend(t for t in self._cjk_tokens(cjk, bigrams) if t not in STOPWORDS)
        return tokens


_default: Tokenizer | None = None
_default_lock = threading.Lock()
_rjieba_default_taken = False


def _new_rjieba() -> Any:
    """A fresh ``rjieba.Jieba`` with the default dictionary. Importing rjieba builds one for its
    module-level functions, which this project never calls: the first tokenizer of a process
    takes that one instead of loading the dictionary a second time."""
    global _rjieba_default_taken
    import rjieba

    with _default_lock:
        default = getattr(rjieba, "_DEFAULT_JIEBA", None)
        if not _rjieba_default_taken and isinstance(default, rjieba.Jieba):
            _rjieba_default_taken = True
            return default
    return rjieba.Jieba()


def default_tokenizer() -> Tokenizer:
    """The tokenizer with only :data:`DOMAIN_WORDS`, built once per process (loading jieba's
    dictionary takes seconds); it never changes. Services derive theirs from it."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Tokenizer()
        return _default


def tokenize(text: str, *, bigrams: bool = False) -> list[str]:
    """Tokens of `text` under :func:`default_tokenizer` (no skill or occupation words): for
    callers without a service; a service's own tokenizer is ``MatchService.tokenizer``."""
    return default_tokenizer().tokenize(text, bigrams=bigrams)


class BM25Index:
    """BM25 (Lucene variant, via bm25s) over token lists keyed by int64 database ids.

    Writes update the stored token lists and bump a generation; the bm25s index is rebuilt
    from a snapshot of them. With ``background=False`` (a static index such as the occupation
    coder's) the next query rebuilds it. With ``background=True`` (the service's indexes, which
    take writes while serving) a query never waits for a rebuild: it answers from the last
    built index, less the ids removed since, while one background thread rebuilds and swaps the
    new index in (documents written meanwhile become searchable at the swap; a replaced
    document keeps its old tokens until then). Only the very first build, when there is no
    index to answer from, happens in the query. :meth:`refresh` builds now; :meth:`wait`
    waits for a running rebuild. All methods are thread-safe.
    """

    def __init__(self, *, k1: float = 1.5, b: float = 0.75, background: bool = False) -> None:
        self.k1 = float(k1)
        self.b = float(b)
        self.background = bool(background)
        self._lock = threading.RLock()
        self._docs: dict[int, list[str]] = {}
        self._generation = 0  # bumped by every write
        self._built: _Built | None = None
        self._built_generation = -1  # the generation self._built reflects (-1: never built)
        self._worker: threading.Thread | None = None
        self.rebuilds = 0  # completed builds (observable in tests and benches)

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, id_: object) -> bool:
        try:
            return int(id_) in self._docs  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False

    def upsert(self, ids: Sequence[int], token_lists: Sequence[Sequence[str]]) -> None:
        """Insert or replace the documents `ids` with their token lists."""
        id_list = _as_ids(ids)
        if isinstance(token_lists, str) or len(id_list) != len(token_lists):
            raise InvalidInput(f"got {len(id_list)} ids but {len(token_lists)} token lists")
        if len(set(id_list)) != len(id_list):
            raise InvalidInput("duplicate ids in one upsert call")
        docs: list[list[str]] = []
        for tokens in token_lists:
            if isinstance(tokens, str) or not all(isinstance(t, str) for t in tokens):
                raise InvalidInput("each document must be a list of string tokens")
            docs.append([t for t in tokens if t])
        if not id_list:
            return
        with self._lock:
            for id_, tokens in zip(id_list, docs, strict=True):
                self._docs[id_] = tokens
            self._generation += 1

    def document(self, id_: int) -> list[str] | None:
        """The token list stored for ``id_`` (a copy), or None."""
        with self._lock:
            got = self._docs.get(id_)
            return None if got is None else list(got)

    def documents(self) -> dict[int, list[str]]:
        """A snapshot of the stored token lists by id."""
        with self._lock:
            return dict(self._docs)

    def remove(self, ids: Iterable[int]) -> int:
        """Delete the documents `ids`; unknown ids are ignored. Returns how many were removed."""
        id_list = set(_as_ids(ids))
        with self._lock:
            removed = sum(self._docs.pop(i, None) is not None for i in id_list)
            if removed:
                self._generation += 1
            return removed

    @property
    def current(self) -> bool:
        """Whether the built index reflects every write so far."""
        with self._lock:
            return self._built_generation == self._generation

    def search(
        self, query_tokens: Sequence[str], k: int, allowed: Iterable[int] | None = None
    ) -> list[tuple[int, float]]:
        """Up to `k` (id, score) pairs with score > 0, best first, optionally only ids in `allowed`."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InvalidInput(f"k must be a positive integer, got {k!r}")
        try:
            return self._search(query_tokens, k, allowed)
        finally:
            self._start_rebuild()

    def _search(self, query_tokens: Sequence[str], k: int, allowed: Iterable[int] | None) -> list[tuple[int, float]]:
        built, stale = self._snapshot()
        if built is None:
            return []
        scores = built.score(query_tokens)
        if scores is None:
            return []
        if allowed is not None:
            rows = built.rows(_as_ids(allowed))
            keys = built.row_ids[rows]
            scores = scores[rows]
        else:
            keys = built.row_ids
        hits = np.flatnonzero(scores > 0)
        if stale and hits.size:
            # ids removed since the build must not come back
            with self._lock:
                live = self._docs
                hits = hits[np.fromiter((int(i) in live for i in keys[hits]), dtype=bool, count=hits.size)]
        if hits.size == 0:
            return []
        if hits.size > k:
            hits = hits[_top_positions(scores[hits], k)]
        # best first; ties broken by id for a deterministic order
        order = np.lexsort((keys[hits], -scores[hits]))
        hits = hits[order]
        return [(int(i), float(s)) for i, s in zip(keys[hits], scores[hits], strict=True)]

    def scores_for(self, query_tokens: Sequence[str], ids: Iterable[int]) -> np.ndarray:
        """BM25 scores (float32) of the documents `ids` for the query, 0 for unknown ids."""
        id_list = _as_ids(ids)
        try:
            return self._scores_for(query_tokens, id_list)
        finally:
            self._start_rebuild()

    def _scores_for(self, query_tokens: Sequence[str], id_list: list[int]) -> np.ndarray:
        out = np.zeros(len(id_list), dtype=np.float32)
        built, _stale = self._snapshot()
        if built is None or not id_list:
            return out
        scores = built.score(query_tokens)
        if scores is None:
            return out
        with self._lock:
            live = self._docs
            for pos, id_ in enumerate(id_list):
                row = built.row_of.get(id_)
                if row is not None and id_ in live:
                    out[pos] = scores[row]
        return out

    def refresh(self) -> None:
        """Build the index from the current documents now (in the caller's thread)."""
        with self._lock:
            docs, generation = dict(self._docs), self._generation
        built = _Built.build(docs, self.k1, self.b)
        self._swap(built, generation)

    def save_built(self, directory: Path, key: Mapping[str, Any]) -> bool:
        """Save the built index when it reflects every write (else nothing: False), with ``key``
        (what the caller needs it to match on load), replacing any older copy in ``directory``
        whole: a reader sees the old copy, the new one or none, never a mix."""
        with self._lock:
            if self._built_generation != self._generation or self._built is None:
                return False
            built = self._built
        directory = Path(directory)
        tmp = directory.with_name(f"{directory.name}.tmp-{uuid.uuid4().hex[:8]}")
        try:
            built.save(tmp)
            (tmp / "key.json").write_text(json.dumps(dict(key, k1=self.k1, b=self.b), sort_keys=True),
                                          encoding="utf-8")
            old = directory.with_name(f"{directory.name}.old-{uuid.uuid4().hex[:8]}")
            if directory.exists():
                directory.rename(old)
            tmp.rename(directory)
            shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:  # a cache: the next load builds the index instead
            log.warning("cannot save the BM25 index to %s: %s", directory, exc)
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        return True

    def load_built(self, directory: Path, key: Mapping[str, Any]) -> bool:
        """Use the index saved by :meth:`save_built` as the built index of the current documents
        when its key equals ``key`` (and this index's k1, b) and its rows are exactly the
        current non-empty documents; False (nothing changed) otherwise."""
        directory = Path(directory)
        try:
            saved = json.loads((directory / "key.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if saved != dict(key, k1=self.k1, b=self.b):
            return False
        with self._lock:
            docs, generation = self._docs, self._generation
            expected = sorted(i for i, t in docs.items() if t)
        try:
            built = _Built.load(directory)
            if sorted(built.row_ids.tolist()) != expected:
                return False
        except Exception as exc:  # a cache: unreadable means build it again
            log.warning("the saved BM25 index %s cannot be read (%s: %s): building it again", directory,
                        type(exc).__name__, exc)
            return False
        self._swap(built, generation)
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running background rebuild (and the ones it chains); True when none runs."""
        while True:
            with self._lock:
                worker = self._worker
            if worker is None:
                return True
            worker.join(timeout)
            if worker.is_alive():
                return False

    def _swap(self, built: _Built | None, generation: int) -> None:
        with self._lock:
            if generation > self._built_generation:
                self._built, self._built_generation = built, generation
                self.rebuilds += 1

    def _snapshot(self) -> tuple[_Built | None, bool]:
        """The index to answer from and whether writes came after it was built."""
        with self._lock:
            if self._built_generation == self._generation:
                return self._built, False
            if not self.background or self._built_generation < 0:
                # no index to answer from yet, or a static index: build it here
                docs, generation = dict(self._docs), self._generation
                built = _Built.build(docs, self.k1, self.b)
                self._swap(built, generation)
                return built, False
            return self._built, True

    def _start_rebuild(self) -> None:
        """Start the background rebuild when writes came after the built index (called after a
        query has its answer: the rebuild's Python work would otherwise hold the GIL the query
        needs, and the first query after a write would wait for it after all)."""
        with self._lock:
            if (self.background and self._worker is None and self._built_generation >= 0
                    and self._built_generation != self._generation):
                self._worker = threading.Thread(target=self._rebuild_loop, name="bm25-rebuild", daemon=True)
                self._worker.start()

    def _rebuild_loop(self) -> None:
        """Rebuild until the built index has caught up with the writes, then stop."""
        try:
            while True:
                with self._lock:
                    if self._built_generation == self._generation:
                        self._worker = None
                        return
                    docs, generation = dict(self._docs), self._generation
                self._swap(_Built.build(docs, self.k1, self.b), generation)
        except Exception:  # pragma: no cover - a failed rebuild leaves the old index serving
            log.exception("BM25 rebuild failed; the previous index keeps serving")
            with self._lock:
                self._worker = None


class _Built:
    """An immutable BM25 index over the non-empty documents at one moment: bm25s's eager score
    matrix (CSC: a column of per-document scores for each term) and its vocabulary. Built by
    bm25s; scored here with numpy, adding each query term's column in turn exactly as bm25s's
    own scoring does (the same float32 sums, tested), so a saved index is read and queried
    without importing bm25s or scipy.

    The columns of terms in at least half the documents (``DENSE_DF_SHARE``: in job texts the
    words every post has, which hold most of a long query's postings) are also kept dense, one
    float32 per document with 0 where the term is absent, and added as a whole: ``x + 0.0`` is
    ``x``, so the sums are the same, and a dense column takes no more memory than its postings."""

    FILES = ("data", "indices", "indptr")
    DENSE_DF_SHARE = 0.5

    def __init__(self, arrays: Mapping[str, np.ndarray], num_docs: int, vocab: dict[str, int],
                 row_ids: np.ndarray) -> None:
        # plain ndarray views (of a loaded index's memory maps too): a slice of a np.memmap runs
        # its Python __array_finalize__, two slices per query term
        self.data, self.indices, self.indptr = (np.asarray(arrays[k]) for k in self.FILES)
        self.num_docs = int(num_docs)
        self.vocab = vocab
        self.row_ids = row_ids
        self.row_of: dict[int, int] = {int(i): r for r, i in enumerate(row_ids.tolist())}
        if self.num_docs != len(row_ids) or len(self.indptr) != len(vocab) + 1:
            raise ValueError("BM25 index arrays disagree with its vocabulary or rows")
        self.dense: dict[int, np.ndarray] = {}
        df = np.diff(np.asarray(self.indptr, dtype=np.int64))
        for t in np.flatnonzero(df >= max(1.0, self.DENSE_DF_SHARE * self.num_docs)).tolist():
            a, z = int(self.indptr[t]), int(self.indptr[t + 1])
            rows = np.asarray(self.indices[a:z])
            if rows.size > 1 and not bool((rows[1:] > rows[:-1]).all()):
                continue  # a document twice in a column: only np.add.at sums it as bm25s does
            col = np.zeros(self.num_docs, dtype=np.float32)
            col[rows] = self.data[a:z]
            self.dense[t] = col

    @classmethod
    def build(cls, docs: dict[int, list[str]], k1: float, b: float) -> _Built | None:
        """Index the documents that have tokens; None when there are none."""
        import bm25s

        items = [(i, t) for i, t in docs.items() if t]
        if not items:
            return None
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        retriever.index([t for _, t in items], show_progress=False)
        if retriever.nonoccurrence_array is not None:  # pragma: no cover - lucene has none
            raise RuntimeError("BM25 variant with non-occurrence scores")
        sc = retriever.scores
        # bm25s adds "" to its vocabulary without a column (a query never holds an empty token)
        vocab = {t: i for t, i in retriever.vocab_dict.items() if t}
        return cls({k: np.asarray(sc[k]) for k in cls.FILES}, sc["num_docs"], vocab,
                   np.array([i for i, _ in items], dtype=np.int64))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True)
        for k in self.FILES:
            np.save(directory / f"{k}.npy", getattr(self, k))
        np.save(directory / "row_ids.npy", self.row_ids)
        (directory / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> _Built:
        arrays = {k: np.load(directory / f"{k}.npy", mmap_mode="r", allow_pickle=False) for k in cls.FILES}
        row_ids = np.load(directory / "row_ids.npy", allow_pickle=False).astype(np.int64)
        vocab = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
        return cls(arrays, len(row_ids), vocab, row_ids)

    def score(self, query_tokens: Sequence[str]) -> np.ndarray | None:
        """BM25 score of every indexed row, or None when no query token is in the vocabulary."""
        if isinstance(query_tokens, str):
            raise InvalidInput("query_tokens must be a list of tokens, not a string")
        token_ids = list(
            dict.fromkeys(self.vocab[t] for t in query_tokens if t and t in self.vocab)
        )
        if not token_ids:
            return None
        scores = np.zeros(self.num_docs, dtype=np.float32)
        # one term's column after the other, in the query's order: bm25s's own order of additions
        # (added column by column, not from one concatenated copy of them: a profile's terms
        # hold some 800,000 postings at 10^5 records)
        for t in token_ids:
            col = self.dense.get(t)
            if col is not None:
                scores += col
                continue
            a, z = int(self.indptr[t]), int(self.indptr[t + 1])
            np.add.at(scores, self.indices[a:z], self.data[a:z].astype(np.float32, copy=False))
        return scores

    def rows(self, ids: list[int]) -> np.ndarray:
        """Row numbers of those `ids` that are indexed."""
        rows = [self.row_of[i] for i in dict.fromkeys(ids) if i in self.row_of]
        return np.array(rows, dtype=np.int64)


def _top_positions(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest of ``values`` (more than ``k``), in no particular order: the
    set ``np.argpartition(-values, k - 1)[:k]`` gives. A query matching most of 10^5 documents
    partitions them all (about 1 ms); here only those above a threshold read from a sample,
    when that set is the same: at least ``k + 1`` values above it and no tie at the ``k``-th
    (a tie there, or too few above, and it is argpartition's own choice over all of them)."""
    n = values.size
    if n > 16 * k:
        sample = values[:: max(1, n // 4096)]
        above = min(sample.size - 1, 4 * k * sample.size // n + 8)  # ~4k values expected above
        threshold = np.partition(sample, sample.size - 1 - above)[sample.size - 1 - above]
        sub = np.flatnonzero(values >= threshold)
        if sub.size > k:
            neg = -values[sub]
            part = np.argpartition(neg, k)  # the k largest first, then the (k+1)-th at position k
            if neg[part[k]] > neg[part[:k]].max():  # the k-th largest is not tied with the next
                return sub[part[:k]]
    return np.argpartition(-values, k - 1)[:k]


def _as_ids(ids: Iterable[int]) -> list[int]:
    """`ids` as a list of Python ints, or `InvalidInput`."""
    out: list[int] = []
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InvalidInput(f"ids must be integers, got {value!r}")
        out.append(int(value))
    return out
