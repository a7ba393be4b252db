"""The features of a pair that read a few fields of each side, for one record's candidates,
from what earlier rankings of the process already worked out.

:func:`matcher.ranking.scorer.by_keys` evaluates such a feature once per distinct (talent key,
entry key) among the pairs of one call. A server ranks the same candidates for many queries:
the candidates' records are the shared models of its record cache, and their keys, and the
feature values of the same key pairs, come back call after call. :class:`KeyMemo` keeps

* per candidate record (by identity, while the record lives: a weak reference), its keys as
  small integer codes, one per feature (interned per side and feature);
* per feature, the value of each (query code, candidate code) pair evaluated so far.

A ranking then reads its candidates' codes, evaluates the feature once per code pair it has
never seen (on the first of its candidates with that code), and looks up the rest: the same
floats as ``by_keys`` (the feature reads only what the keys hold). No record is kept alive. The records must not be changed once ranked (the record cache's models are
not). The memo is shared by the threads of a server: interning takes a lock; a ranking reads
one generation (:class:`_Generation`) throughout, and a full memo starts a new one.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

KeyFn = Callable[[Any], Any]
PairFn = Callable[[Any, Any], Any]

# Distinct keys interned per side and feature before the memo starts again (a new generation).
MAX_CODES = 1 << 18
# Feature values kept per feature before that feature's values are dropped (they are recomputed).
MAX_VALUES = 1 << 18


class _Generation:
    """Codes, rows and values that agree with each other."""

    def __init__(self) -> None:
        self.codes: dict[tuple[str, str], dict[Any, int]] = {}  # (side, feature) -> key -> code
        self.rows: dict[str, dict[int, tuple[weakref.ref, tuple[int, ...]]]] = {"talent": {}, "demand": {}}
        # (target, feature) -> query code -> candidate code -> value
        self.values: dict[tuple[str, str], dict[int, dict[int, Any]]] = {}
        self.n_values: dict[tuple[str, str], int] = {}
        self.full = False


class KeyMemo:
    """Interned keys of candidate records and memoised feature values (see the module docstring)."""

    def __init__(self) -> None:
        self._gen = _Generation()
        self._lock = threading.Lock()

    def stats(self) -> dict[str, int]:
        """Records with kept codes per side, and feature values kept."""
        g = self._gen
        return {"talent_rows": len(g.rows["talent"]), "demand_rows": len(g.rows["demand"]),
                "values": sum(g.n_values.values())}

    def features(self, query: Any, others: Sequence[Any], target: str,
                 keys: dict[str, tuple[KeyFn, KeyFn, PairFn]]) -> dict[str, np.ndarray]:
        """Per feature ``name -> (talent key, entry key, fn(talent, entry))``: the float64 array of
        ``fn`` over the pairs of ``query`` (of the other side) with each of ``others`` (of
        ``target``, "talent" or "demand"), in their order; one column per item where ``fn``
        returns a tuple."""
        gen = self._gen
        names = list(keys)
        q_is_talent = target == "demand"
        query_side = "talent" if q_is_talent else "demand"
        q_keys = [keys[n][0 if q_is_talent else 1] for n in names]
        o_keys = [keys[n][1 if q_is_talent else 0] for n in names]
        q_codes = [self._code(gen, query_side, n, kf(query)) for n, kf in zip(names, q_keys, strict=True)]
        get = gen.rows[target].get
        rows = [got[1] if (got := get(id(r))) is not None and got[0]() is r
                else self._row(gen, target, names, o_keys, r) for r in others]
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        out: dict[str, np.ndarray] = {}
        for f, name in enumerate(names):
            fn = keys[name][2]
            column = columns[f]
            memo = self._values(gen, target, name, q_codes[f])
            vals = list(map(memo.get, column))  # a value is never None (a float, a bool or a tuple)
            if None in vals:
                added = 0
                for k, v in enumerate(vals):
                    if v is None:
                        c = column[k]
                        v = memo.get(c)  # an earlier candidate with the same code
                        if v is None:
                            other = others[k]
                            v = memo[c] = fn(query, other) if q_is_talent else fn(other, query)
                            added += 1
                        vals[k] = v
                self._count(gen, target, name, added)
            out[name] = np.asarray(vals, dtype=np.float64)
        return out

    def knows(self, side: str, record: Any) -> bool:
        """Whether the codes of ``record`` (this very object, of ``side``) are kept."""
        got = self._gen.rows[side].get(id(record))
        return got is not None and got[0]() is record

    def remember(self, side: str, records: Sequence[Any], keys: dict[str, tuple[KeyFn, KeyFn, PairFn]]) -> None:
        """Work out the codes of ``records`` (of ``side``) not kept yet."""
        gen = self._gen
        names = list(keys)
        key_fns = [keys[n][0 if side == "talent" else 1] for n in names]
        get = gen.rows[side].get
        for r in records:
            got = get(id(r))
            if got is None or got[0]() is not r:
                self._row(gen, side, names, key_fns, r)

    # -- interning ------------------------------------------------------------------------

    def _code(self, gen: _Generation, side: str, name: str, key: Any) -> int:
        table = gen.codes.get((side, name))
        if table is not None:
            code = table.get(key)
            if code is not None:
                return code
        with self._lock:
            table = gen.codes.setdefault((side, name), {})
            code = table.get(key)
            if code is None:
                code = table[key] = len(table)
                if len(table) >= MAX_CODES:
                    gen.full = True
            if gen.full and gen is self._gen:
                self._gen = _Generation()  # later rankings start again; this one reads its own
            return code

    def _row(self, gen: _Generation, side: str, names: list[str], key_fns: list[KeyFn], record: Any) -> tuple[int, ...]:
        codes = tuple(self._code(gen, side, n, kf(record)) for n, kf in zip(names, key_fns, strict=True))
        rows = gen.rows[side]
        rid = id(record)

        def gone(ref: weakref.ref, rows: dict = rows, rid: int = rid) -> None:
            got = rows.get(rid)
            if got is not None and got[0] is ref:
                rows.pop(rid, None)

        rows[rid] = (weakref.ref(record, gone), codes)
        return codes

    def _values(self, gen: _Generation, target: str, name: str, q_code: int) -> dict[int, Any]:
        by_query = gen.values.get((target, name))
        if by_query is None:
            by_query = gen.values.setdefault((target, name), {})
        memo = by_query.get(q_code)
        if memo is None:
            memo = by_query.setdefault(q_code, {})
        return memo

    def _count(self, gen: _Generation, target: str, name: str, added: int) -> None:
        with self._lock:
            n = gen.n_values.get((target, name), 0) + added
            if n > MAX_VALUES:  # dropped, not shrunk: a ranking holding the old dicts finishes with them
                gen.values[(target, name)] = {}
                n = 0
            gen.n_values[(target, name)] = n
