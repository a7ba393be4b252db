"""The static encoder's training steps (scripts/build_static_encoder.py): the block conjugate-
gradient ridge solves the ridge problem, and the score distillation brings the static scores
over a set of "occupations" closer to the teacher's, in a table the encoder loads."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from scripts.build_static_encoder import _bags, finetune, ridge


def test_ridge_solves_the_normal_equations():
    rng = np.random.default_rng(0)
    x = sparse.random(200, 60, density=0.1, random_state=1, format="csr", dtype=np.float32)
    y = rng.standard_normal((200, 5)).astype(np.float32)
    w = ridge(x, y, alpha=0.5, iters=500, tol=1e-7)
    dense = x.toarray().astype(np.float64)
    expected = np.linalg.solve(dense.T @ dense + 0.5 * np.eye(60), dense.T @ y)
    assert np.allclose(w, expected, atol=1e-3)


def test_bags_weight_known_features_like_the_encoder():
    ids, offsets, weights = _bags([["a", "b", "zz", "a"], ["zz"], ["b"]], {"a": 0, "b": 1})
    assert ids.tolist() == [0, 1, 0, 1]
    assert offsets.tolist() == [0, 3, 3]
    assert np.allclose(weights, [1 / np.sqrt(3)] * 3 + [1.0])


def _kl(q, occ, q_t, occ_t, tau):
    def logsm(s):
        s = s / tau
        s = s - s.max(1, keepdims=True)
        return s - np.log(np.exp(s).sum(1, keepdims=True))

    t = logsm(q_t @ occ_t.T)
    return float((np.exp(t) * (t - logsm(q @ occ.T))).sum(1).mean())


def test_finetune_moves_static_scores_towards_the_teacher():
    rng = np.random.default_rng(3)
    dim, rank = 8, 4
    vocab = [f"f{i}" for i in range(30)]
    index = {k: i for i, k in enumerate(vocab)}

    def texts(n):
        return [list(rng.choice(vocab, size=4)) for _ in range(n)]

    q_feats, occ_feats = texts(64), texts(12)
    truth = rng.standard_normal((len(vocab), dim)).astype(np.float32)

    def teacher(feats):  # the teacher: a non-linear function of the same features
        ids, offsets, weights = _bags(feats, index)
        out = np.stack([np.tanh((truth[ids[s:e]] * weights[s:e, None]).sum(0) * 2)
                        for s, e in zip(offsets, [*offsets[1:], len(ids)], strict=True)])
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    q_y, occ_y = teacher(q_feats), teacher(occ_feats)
    table = rng.standard_normal((len(vocab), rank)).astype(np.float32) * 0.1
    basis = rng.standard_normal((rank, dim)).astype(np.float32)
    mean = np.zeros(dim, np.float32)

    def static(t, b, m, feats):
        ids, offsets, weights = _bags(feats, index)
        x = sparse.csr_matrix((weights, ids, np.append(offsets, len(ids))), shape=(len(feats), len(vocab)))
        v = x @ t @ b + m
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    before = _kl(static(table, basis, mean, q_feats), static(table, basis, mean, occ_feats), q_y, occ_y, 0.1)
    t, b, m = finetune(table, basis, mean, index, (q_feats, q_y), ([], np.zeros((0, dim), np.float32)),
                       (occ_feats, occ_y), epochs=30, lr=1e-2, tau=0.1, batch=16, cos_weight=1.0)
    after = _kl(static(t, b, m, q_feats), static(t, b, m, occ_feats), q_y, occ_y, 0.1)
    assert t.shape == table.shape and b.shape == basis.shape and m.shape == mean.shape
    assert after < 0.5 * before
