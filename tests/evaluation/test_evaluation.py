"""Evaluation harness: metric definitions, the 小类 rule, labelled-file validation, the three
rankers on small hand-built data, the ``eval`` CLI and the bundled development sets."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from matcher.core.errors import Conflict, InvalidInput
from matcher.core.settings import PROJECT_ROOT
from matcher.evaluation.harness import (
    Candidate,
    EvalFileInvalid,
    EvalQuery,
    Ranker,
    aggregate,
    bootstrap_ci,
    code_hits,
    credited_ranks,
    evaluate,
    evaluate_occupations,
    parse_eval_lines,
    query_scores,
    read_eval_file,
    run_rankers,
    validate_queries,
)
from matcher.reference.occupations import Occupation, Taxonomy
from matcher.retrieval.occupation_coder import OccupationCoder
from tests.cli import test_cli
from tests.conftest import demand, talent

EVAL_DIR = PROJECT_ROOT / "data" / "eval"
env = test_cli.env  # the CLI tests' fixture (tmp data dir, fake encoder) and runner
run = test_cli.run


def occ(code: str) -> Candidate:
    return Candidate(codes=frozenset({code}))


def ident(i: int, code: str | None = None) -> Candidate:
    return Candidate(keys=frozenset({f"id:{i}"}), codes=frozenset({code} if code else set()))


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load(PROJECT_ROOT / "data" / "csco22_occupations.csv")


# --------------------------------------------------------------------------- metrics


def test_code_hits_exact_and_minor_group_rule():
    assert code_hits("2-02-10-03", "2-02-10-03")
    assert not code_hits("2-02-10-03", "2-02-10-04")
    # a gold 小类 (ending -00) is hit by any occupation of that 小类, and only of that one
    assert code_hits("2-02-10-00", "2-02-10-03")
    assert code_hits("2-02-10-00", "2-02-10-00")
    assert not code_hits("2-02-10-00", "2-02-11-03")
    assert not code_hits("2-02-10-00", "2-02-01-00")
    # an occupation code never stands for its 小类
    assert not code_hits("2-02-10-03", "2-02-10-00")


def test_credited_ranks_one_gold_per_position_exact_first():
    # gold: the 小类 2-02-10 and one of its occupations; the first result (2-02-10-03) is an
    # exact hit of the second gold item, so the 小类 is credited only at position 3
    ranking = [occ("2-02-10-03"), occ("6-01-01-01"), occ("2-02-10-05"), occ("2-02-10-01")]
    assert credited_ranks(ranking, ["2-02-10-00", "2-02-10-03"]) == [3, 1]
    # several occupations of one gold 小类 count once
    assert credited_ranks(ranking, ["2-02-10-00"]) == [1]
    # database ids are keys; positions beyond k are not credited
    ids = [ident(7), ident(3), ident(9)]
    assert credited_ranks(ids, ["id:3", "id:9"], k=2) == [2, None]
    assert credited_ranks([], ["id:3"]) == [None]


def test_query_scores_hand_computed():
    # two gold items credited at positions 2 and 7
    s = query_scores([2, 7], 2)
    assert s["acc_at_1"] == 0.0
    assert s["recall_at_5"] == 0.5
    assert s["recall_at_10"] == 1.0
    assert s["mrr_at_10"] == 0.5
    dcg = 1 / math.log2(3) + 1 / math.log2(8)
    idcg = 1 + 1 / math.log2(3)
    assert s["ndcg_at_10"] == pytest.approx(dcg / idcg)
    assert s["ndcg_at_10"] == pytest.approx(0.5912, abs=1e-4)  # (0.6309 + 0.3333) / 1.6309
    # a perfect single answer, and no answer at all
    assert query_scores([1], 1) == {"acc_at_1": 1.0, "recall_at_5": 1.0, "recall_at_10": 1.0,
                                    "mrr_at_10": 1.0, "ndcg_at_10": 1.0}
    assert query_scores([None, None], 2) == {"acc_at_1": 0.0, "recall_at_5": 0.0, "recall_at_10": 0.0,
                                             "mrr_at_10": 0.0, "ndcg_at_10": 0.0}
    # 12 gold items: the ideal DCG stops at 10 positions, so 10 hits in the top 10 score 1
    assert query_scores(list(range(1, 11)) + [None, None], 12)["ndcg_at_10"] == pytest.approx(1.0)
    assert query_scores(list(range(1, 11)) + [None, None], 12)["recall_at_10"] == pytest.approx(10 / 12)
    with pytest.raises(InvalidInput):
        query_scores([], 0)


def test_aggregate_and_bootstrap_interval():
    rows = [query_scores([1], 1), query_scores([4], 1), query_scores([None], 1)]
    m = aggregate(rows)
    assert m.queries == 3
    assert m.acc_at_1 == round(1 / 3, 4)
    assert m.recall_at_5 == round(2 / 3, 4)
    assert m.mrr_at_10 == round((1 + 0.25) / 3, 4)
    assert bootstrap_ci([0.5, 0.5, 0.5]) == (0.5, 0.5)
    lo, hi = bootstrap_ci([0.0, 1.0] * 50)
    assert lo < 0.5 < hi and 0.35 < lo and hi < 0.65
    assert bootstrap_ci([0.0, 1.0] * 50) == (lo, hi)  # seeded: repeatable


def test_run_rankers_scores_each_ranker_and_pairs_with_the_project():
    queries = [EvalQuery(id="a", query="x", gold=["2-02-10-03"], type="title"),
               EvalQuery(id="b", query="y", gold=["2-02-10-00"], type="minor"),
               EvalQuery(id="c", query="z", gold=["6-01-01-01"], type="title")]
    fixed = {
        "talentmatch": [[occ("2-02-10-03")], [occ("1-01-00-01"), occ("2-02-10-05")], []],
        "bm25": [[occ("9-99-99-99"), occ("2-02-10-03")], [occ("2-02-10-01")], [occ("6-01-01-01")]],
    }
    rankers = [Ranker(name, name, lambda batch, rows=rows: rows[: len(batch)]) for name, rows in fixed.items()]
    results, outcomes = run_rankers(queries, queries, rankers, batch=8, details=True)
    tm, bm = results
    # project: hit at 1, 小类 hit at 2, miss
    assert tm.metrics.acc_at_1 == round(1 / 3, 4)
    assert tm.metrics.mrr_at_10 == round((1 + 0.5) / 3, 4)
    assert tm.delta_vs_project is None
    # bm25: hit at 2, hit at 1, hit at 1
    assert bm.metrics.acc_at_1 == round(2 / 3, 4)
    assert bm.metrics.recall_at_10 == 1.0
    assert bm.metrics.mrr_at_10 == round((0.5 + 1 + 1) / 3, 4)
    assert bm.delta_vs_project["mrr_at_10"].mean == round((2.5 - 1.5) / 3, 4)
    assert set(tm.by_type) == {"minor", "title"}
    assert tm.by_type["title"].queries == 2 and tm.by_type["title"].acc_at_1 == 0.5
    assert [o.first_hit for o in outcomes] == [{"talentmatch": 1, "bm25": 2}, {"talentmatch": 2, "bm25": 1},
                                               {"talentmatch": None, "bm25": 1}]
    assert outcomes[1].ranked["talentmatch"] == ["1-01-00-01", "2-02-10-05"]


# --------------------------------------------------------------------------- labelled files


def test_parse_errors_carry_line_numbers():
    text = "\n".join([
        '{"query": "大数据工程师", "gold": ["2-02-10-05"]}',
        '{"query": "x", "gold": [',                      # 2: not JSON
        '["a list"]',                                     # 3: not an object
        '',                                               # blank lines are skipped
        '{"query": "x", "gold": ["2-02-10-05"], "glod": 1}',  # 5: unknown key
        '{"text": "Java开发", "gold": "2-02-10-03"}',     # 6: gold must be a list
    ])
    queries, errors = parse_eval_lines(text)
    assert [q.line for q in queries] == [1]
    assert [(e.row, e.field) for e in errors] == [(2, "整行"), (3, "整行"), (5, "glod"), (6, "gold")]
    assert "JSON 格式错误" in errors[0].reason
    assert errors[2].reason == "未知字段"


def test_validate_occupation_queries(taxonomy):
    queries, errors = parse_eval_lines("\n".join([
        '{"id": "q1", "query": "数据分析师", "gold": ["2-02-10-00", "4-04-05-03"]}',
        '{"id": "q1", "query": "焊工", "gold": ["6-18-02-04"]}',   # repeated id
        '{"query": "   ", "gold": ["2-02-10-03"]}',               # empty text
        '{"query": "焊工"}',                                      # no gold
        '{"query": "焊工", "gold": ["2-02-10", "9-99-99-99"]}',   # malformed and unknown code
        '{"profile": {"skills": ["Python"]}, "gold": ["2-02-10-03"]}',
    ]))
    assert not errors
    with pytest.raises(EvalFileInvalid) as info:
        validate_queries(queries, "occupations", taxonomy=taxonomy)
    got = [(e.row, e.field) for e in info.value.errors]
    assert got == [(2, "id"), (3, "query"), (4, "gold"), (5, "gold"), (5, "gold"), (6, "query")]
    assert info.value.detail == "评测文件中有 6 处错误，未进行评测"
    assert info.value.status == 422
    validate_queries(queries[:1], "occupations", taxonomy=taxonomy)  # the first line is fine
    with pytest.raises(InvalidInput, match="没有查询"):
        validate_queries([], "occupations", taxonomy=taxonomy)


def test_validate_match_queries_checks_ids_against_the_store(service):
    [eid] = service.add("demand", [demand()])
    queries, _ = parse_eval_lines("\n".join([
        f'{{"query": "大数据开发", "gold": [{eid}]}}',
        '{"query": "大数据开发", "gold": [999]}',                                  # not stored
        '{"query": "大数据开发", "profile": {"skills": ["Python"]}, "gold": [1]}',  # two queries
        '{"entry": {"title": "焊工"}, "side": "demands", "gold_occupations": ["6-18-02-04"]}',
        '{"query": "焊工", "gold": ["abc"], "gold_occupations": ["2-02-10-99"]}',
    ]))
    with pytest.raises(EvalFileInvalid) as info:
        validate_queries(queries, "match", taxonomy=service.taxonomy, store=service.store)
    got = [(e.row, e.field, e.reason) for e in info.value.errors]
    assert (2, "gold", "编号 999 的需求条目不存在") in got
    assert [(r, f) for r, f, _ in got] == [(2, "gold"), (3, "query"), (4, "side"), (5, "gold"),
                                           (5, "gold_occupations")]


# --------------------------------------------------------------------------- rankers


def test_evaluate_occupations_runs_the_coder_and_its_two_halves(fake_encoder, tmp_path):
    rows = [
        Occupation(3, "2-02-10-00", "计算机与应用工程技术人员", "", "", False, False),
        Occupation(4, "2-02-10-03", "计算机软件工程技术人员", "从事计算机软件研究、设计、测试的工程技术人员。", "", True, False),
        Occupation(4, "2-02-10-05", "大数据工程技术人员", "从事大数据采集、清洗、分析的工程技术人员。", "", True, False),
        Occupation(4, "6-18-02-04", "焊工", "操作焊接设备，进行金属工件焊接的人员。", "", False, False),
        Occupation(4, "2-05-08-01", "内科护士", "从事内科病人护理工作的专业人员。", "", False, False),
    ]
    coder = OccupationCoder(Taxonomy(rows), fake_encoder, cache_dir=tmp_path)
    queries = [EvalQuery(id="1", query="焊工", gold=["6-18-02-04"], type="exact"),
               EvalQuery(id="2", query="内科护士", gold=["2-05-08-01"], type="exact"),
               EvalQuery(id="3", query="大数据工程技术人员", gold=["2-02-10-00"], type="minor"),
               EvalQuery(id="4", query="qqqq zzzz", gold=["6-18-02-04"], type="nonsense")]
    report = evaluate_occupations(coder, queries, details=True)
    assert [r.name for r in report.rankers] == ["talentmatch", "bm25", "dense"]
    assert report.queries == 4 and report.types == {"exact": 2, "minor": 1, "nonsense": 1}
    bm25 = report.ranker("bm25")
    # the three real names are found first by BM25 (the 小类 gold through its occupation);
    # the nonsense query shares no token with any occupation: BM25 returns nothing
    assert [o.first_hit["bm25"] for o in report.outcomes] == [1, 1, 1, None]
    assert report.outcomes[3].ranked["bm25"] == []
    assert bm25.metrics.acc_at_1 == 0.75 and bm25.metrics.mrr_at_10 == 0.75
    # the dense half ranks every occupation for every query; the fused ranking too
    assert all(len(o.ranked["dense"]) == 4 and len(o.ranked["talentmatch"]) == 4 for o in report.outcomes)
    # the shipped re-ranker was trained on e5 features: with the fake encoder the coder is the
    # plain fusion, and its halves are the baselines
    assert report.ranker("talentmatch").label == "talentmatch（稠密 0.6 + BM25 0.4）"
    assert not coder.use_reranker and not coder.leave_one_out
    assert coder.dense_weight == 0.6 and coder.encoder is fake_encoder  # the coder itself is untouched


def test_evaluate_match_compares_the_service_with_bm25_and_dense(service):
    ids = service.add("demand", [
        demand(title="焊接机器人编程工程师", occupation_code="6-31-07-01", required_skills=["PLC编程"],
               description="负责焊接机器人工作站的编程与调试"),
        demand(title="内科护士", occupation_code="2-05-08-01", required_skills=[], education="大专",
               description="负责内科病房护理"),
        demand(title="大数据开发工程师", occupation_code="2-02-10-03", required_skills=["Spark", "Hadoop"],
               description="负责数据仓库与 Spark 作业开发"),
    ])
    [tid] = service.add("talent", [talent(skills=["Spark", "Hadoop"], summary="大数据开发工程师")])
    queries, errors = parse_eval_lines("\n".join([
        json.dumps({"id": "w", "query": "焊接机器人编程", "gold": [ids[0]], "type": "wish"}, ensure_ascii=False),
        json.dumps({"id": "p", "profile": {"skills": ["Spark"], "summary": "大数据开发"},
                    "gold_occupations": ["2-02-10-00"], "type": "profile"}, ensure_ascii=False),
        json.dumps({"id": "e", "entry": {"title": "大数据开发工程师", "required_skills": ["Spark"]},
                    "gold": [tid], "type": "entry"}, ensure_ascii=False),
    ]))
    report = evaluate(service, queries, "match", errors=errors, details=True)
    assert report.task == "match" and report.queries == 3
    first = {o.id: o.first_hit for o in report.outcomes}
    # every ranker finds the welding post for the welding wish first (only it shares the tokens)
    assert first["w"] == {"talentmatch": 1, "bm25": 1, "dense": first["w"]["dense"]}
    assert first["w"]["dense"] is not None
    # the 小类 gold 2-02-10-00 is met by the big-data post (2-02-10-03), found by BM25 first
    assert first["p"]["bm25"] == 1
    assert report.outcomes[1].ranked["bm25"][0] == f"id:{ids[2]},2-02-10-03"
    # an unsaved entry searches the talents side; the only talent is the answer
    assert first["e"]["bm25"] == 1 and first["e"]["dense"] == 1
    # the encoders were restored after the evaluation
    assert type(service.cached.encoder).__name__ == "FakeEncoder"


def test_eval_request_as_an_api_body_numbers_queries_by_position(service):
    from matcher.evaluation.harness import EvalRequest, run_eval_request

    body = {"task": "occupations", "queries": [{"query": "焊工", "gold": ["6-18-02-04"]},
                                               {"query": "焊工", "gold": ["6-18-02-99"]}]}
    with pytest.raises(EvalFileInvalid) as info:
        run_eval_request(service, EvalRequest.model_validate(body))
    assert [(e.row, e.field) for e in info.value.errors] == [(2, "gold")]
    body["queries"].pop()
    report = run_eval_request(service, EvalRequest.model_validate({**body, "details": True}))
    assert report.queries == 1 and report.ranker("bm25").metrics.acc_at_1 == 1.0
    assert report.outcomes[0].first_hit["bm25"] == 1
    with pytest.raises(ValueError):
        EvalRequest.model_validate({"task": "occupations", "queries": []})


# --------------------------------------------------------------------------- CLI


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_cli_eval_occupations_table_json_and_details(env, monkeypatch, capsys):
    f = write(env / "occ.jsonl", [{"query": "大数据工程技术人员", "gold": ["2-02-38-03"], "type": "title"},
                                  {"query": "焊工", "gold": ["6-18-02-04"], "type": "title"}])
    code, out, err = run(monkeypatch, capsys, "eval", str(f), "--task", "occupations")
    assert code == 0, err
    assert "Acc@1" in out and "nDCG@10" in out and "首位命中" in out
    assert "talentmatch" in out and "bm25" in out and "dense" in out
    code, out, err = run(monkeypatch, capsys, "eval", str(f), "--format", "json",
                         "--details", str(env / "details.jsonl"))
    assert code == 0, err
    data = json.loads(out)
    assert data["task"] == "occupations" and data["queries"] == 2 and data["outcomes"] == []
    assert [r["name"] for r in data["rankers"]] == ["talentmatch", "bm25", "dense"]
    bm25 = data["rankers"][1]["metrics"]
    assert bm25["acc_at_1"] == 1.0  # both are verbatim classification names
    details = [json.loads(line) for line in (env / "details.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [d["gold"] for d in details] == [["2-02-38-03"], ["6-18-02-04"]]
    assert details[0]["ranked"]["bm25"][0] == "2-02-38-03"


def test_cli_eval_bad_file_gives_line_errors_and_exit_code(env, monkeypatch, capsys):
    f = env / "bad.jsonl"
    f.write_text('{"query": "焊工", "gold": ["6-18-02-04"]}\n{"query": "焊工", "gold": ["9-99-99-99"]}\nnot json\n',
                 encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "eval", str(f), "--task", "occupations")
    assert code == 1
    assert "评测文件中有 2 处错误，未进行评测" in err
    assert "第 2 行，字段 gold：未知职业编码" in err and "第 3 行，字段 整行" in err
    assert "Traceback" not in err and out == ""
    code, _, err = run(monkeypatch, capsys, "eval", str(env / "missing.jsonl"))
    assert code == 2 and "文件不存在" in err
    code, _, err = run(monkeypatch, capsys, "eval", str(f), "--task", "nonsense")
    assert code == 2
    f.write_bytes("焊工".encode("gb18030"))
    code, _, err = run(monkeypatch, capsys, "eval", str(f))
    assert code == 2 and "不是 UTF-8" in err


def test_cli_eval_match_with_a_corpus_in_its_own_work_dir(env, monkeypatch, capsys):
    corpus = write(env / "corpus.jsonl", [
        {"external_id": "c1", "title": "焊接机器人编程工程师", "occupation_code": "6-31-07-01",
         "description": "焊接机器人工作站编程与调试"},
        {"external_id": "c2", "title": "内科护士", "occupation_code": "2-05-08-01", "description": "内科病房护理"},
    ])
    queries = write(env / "q.jsonl", [{"query": "焊接机器人", "gold_occupations": ["6-31-07-01"]},
                                      {"query": "护士", "gold_occupations": ["2-05-08-00"]}])
    work = env / "work"
    code, out, err = run(monkeypatch, capsys, "eval", str(queries), "--task", "match", "--corpus", str(corpus),
                         "--work-dir", str(work), "--format", "json")
    assert code == 0, err
    assert "2 条需求条目，已导入工作目录" in err
    data = json.loads(out)
    assert data["queries"] == 2 and data["rankers"][1]["metrics"]["acc_at_1"] == 1.0
    assert not (env / "var" / "talentmatch.db").exists()  # the work dir is not the user's store
    code, out, err = run(monkeypatch, capsys, "eval", str(queries), "--task", "match", "--corpus", str(corpus),
                         "--work-dir", str(work), "--format", "json")
    assert code == 0 and "复用工作目录" in err
    # another corpus in the same directory is refused, nothing is mixed or deleted
    other = write(env / "other.jsonl", [{"title": "焊工"}])
    code, _, err = run(monkeypatch, capsys, "eval", str(queries), "--task", "match", "--corpus", str(other),
                       "--work-dir", str(work))
    assert code == 2 and "另一个语料" in err
    code, _, err = run(monkeypatch, capsys, "eval", str(queries), "--task", "occupations", "--corpus", str(corpus))
    assert code == 2 and "--corpus 只用于 --task match" in err


def test_load_corpus_refuses_a_directory_with_data(service, tmp_path):
    from matcher.evaluation.harness import load_corpus

    service.add("demand", [demand()])
    corpus = write(tmp_path / "c.jsonl", [{"title": "焊工"}])
    with pytest.raises(Conflict, match="已有数据"):
        load_corpus(service, corpus)
    assert service.store.count("demand") == 1


# --------------------------------------------------------------------------- bundled sets


@pytest.mark.parametrize("name,task", [("synthetic_occupations_dev.jsonl", "occupations"),
                                       ("synthetic_occupations_heldout.jsonl", "occupations"),
                                       ("synthetic_match_dev.jsonl", "match"), ("synthetic_match_heldout.jsonl", "match")])
def test_bundled_sets_are_valid(name, task, taxonomy):
    queries, errors = read_eval_file(EVAL_DIR / name)
    assert not errors
    validate_queries(queries, task, taxonomy=taxonomy)
    assert len({q.id for q in queries}) == len(queries)


def test_dev_and_heldout_share_no_minor_group(taxonomy):
    def groups(name: str) -> set[str]:
        queries, _ = read_eval_file(EVAL_DIR / name)
        return {c.rsplit("-", 1)[0] for q in queries for c in [*map(str, q.gold), *q.gold_occupations]}

    assert not groups("synthetic_occupations_dev.jsonl") & groups("synthetic_occupations_heldout.jsonl")
    assert not groups("synthetic_match_dev.jsonl") & groups("synthetic_match_heldout.jsonl")


def test_build_eval_sets_reproduces_the_bundled_files(tmp_path):
    from scripts import build_eval_sets

    counts = build_eval_sets.build(PROJECT_ROOT / "data", tmp_path)
    for name in counts:
        assert (tmp_path / name).read_bytes() == (EVAL_DIR / name).read_bytes(), name
    corpus = [json.loads(line) for line in (EVAL_DIR / "synthetic_match_corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    # the gold is in external_id only: no entry carries the occupation_code that occupation_fit rewards
    assert all("occupation_code" not in c for c in corpus)
    assert len({c["external_id"] for c in corpus}) == len(corpus) == counts["synthetic_match_corpus.jsonl"]


def test_corpus_labels_stay_out_of_what_the_ranking_reads(service, tmp_path):
    """The match corpus keeps its gold in external_id; the entry is coded from its text on
    import (the occupation_code that occupation_fit rewards is the coder's, not the label)."""
    from matcher.evaluation.harness import load_corpus
    from matcher.evaluation.rankers import label_code, stored_candidates

    corpus = write(tmp_path / "c.jsonl", [{"external_id": "csco22:6-04-01-01", "title": "焊工",
                                           "description": "操作焊接设备，进行金属工件的焊接"}])
    load_corpus(service, corpus)
    [entry] = service.store.list("demand", limit=5)[0]
    assert entry.external_id == "csco22:6-04-01-01"
    assert label_code(entry) == "6-04-01-01"
    [cand] = stored_candidates(service, "demand", [entry.id])
    assert cand.codes == frozenset({"6-04-01-01"})
    assert label_code(entry.model_copy(update={"external_id": "post-7"})) == entry.occupation_code


def test_fresh_real_title_heldout_set_is_valid_and_disjoint_from_dev(taxonomy):
    """The hand-written held-out titles parse as an occupations file, every gold code is a CSCO
    2022 code, and no title is a dev title (the coder's exemplars would memorise it)."""
    held, errors = read_eval_file(EVAL_DIR / "real_titles_heldout.jsonl")
    assert not errors and len(held) >= 150
    validate_queries(held, "occupations", taxonomy=taxonomy)
    dev, _ = read_eval_file(EVAL_DIR / "real_titles_dev.jsonl")
    assert not {q.query for q in held} & {q.query for q in dev}
    assert len({q.query for q in held}) == len(held) == len({q.id for q in held})
