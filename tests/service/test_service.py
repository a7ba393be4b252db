"""The matching service end to end with the fake encoder: indexing, filters, scores, explanations."""

from __future__ import annotations

import pytest

from matcher.core.errors import ImportRejected, InvalidInput, NotFound
from matcher.domain.schemas import DigitalCert, MatchFilters
from matcher.service import MatchService
from matcher.wiring import build_service
from tests.conftest import demand, talent


@pytest.fixture
def filled(service: MatchService):
    d = service.add("demand", [
        demand(title="大数据开发工程师", required_skills=["Python", "Spark", "Hive"], city="淄博",
               required_certificates=["中级以上职称"], salary_min=8000, salary_max=12000),
        demand(title="PLC电气工程师", enterprise_name="济南自动化有限公司", city="济南",
               required_skills=["PLC编程"], education="大专"),
        demand(title="芯片验证工程师", enterprise_name="青岛芯片有限公司", city="青岛", education="硕士",
               required_skills=["UVM", "SystemVerilog"], fresh_graduates_ok=False, min_experience_years=3),
    ])
    t = service.add("talent", [
        talent(name="张三", skills=["python", "Spark"], digital_certs=[DigitalCert(direction="大数据", grade="中级")],
               desired_occupations=["大数据工程师"], salary_min=9000),
        talent(name="李四", skills=["PLC编程", "电气控制"], city="济南", education="大专", major="电气自动化技术",
               consent=False),
        talent(name="王五", skills=["SystemVerilog"], education="硕士", fresh_graduate=True, city="青岛"),
    ])
    return d, t


def test_records_are_normalised_and_coded(service, filled):
    d, t = filled
    entry = service.get("demand", d[0])
    assert entry.city == "淄博市"
    assert entry.occupation_code == "2-02-38-03" and entry.occupation_name == "大数据工程技术人员"
    prof = service.get("talent", t[0])
    assert prof.skills == ["Python", "Spark"]  # canonical vocabulary names
    assert prof.desired_occupations == ["2-02-38-03"]


def test_talent_to_demands_ranks_the_fitting_post_first(service, filled):
    d, t = filled
    res = service.match_talent(t[0], top_k=3)
    assert res[0].id == d[0]
    top = res[0]
    assert top.explanation.matched_skills == ["Python", "Spark"]
    assert top.explanation.missing_skills == ["Hive"]
    # "中级以上职称" is met by the 中级 digital technology engineer certificate (直接认定)
    assert top.eligible and top.explanation.unmet_requirements == []
    assert any(s.direction == "大数据" and "Hive" in s.covers for s in top.explanation.training)
    assert 0 <= top.seeker_score <= 1 and 0 <= top.employer_score <= 1
    assert top.score == pytest.approx(0.5 * top.seeker_score + 0.5 * top.employer_score, abs=1e-3)


def test_hard_requirements_filter_unless_asked(service, filled):
    d, t = filled
    # 王五 is a fresh graduate; the chip post wants 3 years and is closed to fresh graduates
    ids = [m.id for m in service.match_talent(t[2], top_k=10)]
    assert d[2] not in ids
    all_ = service.match_talent(t[2], top_k=10, filters=MatchFilters(include_ineligible=True))
    chip = next(m for m in all_ if m.id == d[2])
    assert not chip.eligible and chip.explanation.unmet_requirements
    # without the equivalent certificate the title requirement is unmet
    [plain] = service.add("talent", [talent(name="赵六", skills=["Python", "Spark", "Hive"])])
    res = service.match_talent(plain, top_k=10, filters=MatchFilters(include_ineligible=True))
    big = next(m for m in res if m.id == d[0])
    assert not big.eligible
    assert any("中级" in u for u in big.explanation.unmet_requirements)


def test_demand_to_talents_and_filters(service, filled):
    d, t = filled
    res = service.match_demand(d[1], top_k=5)
    assert res[0].id == t[1] and res[0].kind == "talent"
    # the city filter keeps the candidates of that city: a filter that drops every result fails
    qingdao = service.match_demand(d[1], top_k=5, filters=MatchFilters(city="青岛", include_ineligible=True))
    assert [m.id for m in qingdao] == [t[2]]
    assert service.get("talent", t[2]).city == "青岛市"
    assert t[2] in [m.id for m in service.match_demand(d[1], top_k=5, filters=MatchFilters(include_ineligible=True))]
    fresh = service.match_demand(d[0], top_k=5, filters=MatchFilters(fresh_graduates_only=True, include_ineligible=True))
    assert [m.id for m in fresh] == [t[2]]


def test_fresh_graduates_filter_leaves_out_posts_that_ask_for_experience(service):
    # a catalogue row open to fresh graduates by default, but asking for 3 years in its text
    [open_post, senior] = service.add("demand", [
        demand(title="Python开发工程师（应届）", min_experience_years=0),
        demand(title="Python开发工程师", min_experience_years=3, fresh_graduates_ok=True),
    ])
    [grad] = service.add("talent", [talent(name="孙七", fresh_graduate=True, experience_years=0)])
    fresh = MatchFilters(fresh_graduates_only=True, include_ineligible=True)
    ids = [m.id for m in service.match_talent(grad, top_k=10, filters=fresh)]
    assert open_post in ids and senior not in ids
    # without the filter the senior post is still listed (as not eligible): the filter decides
    everything = service.match_talent(grad, top_k=10, filters=MatchFilters(include_ineligible=True))
    assert senior in [m.id for m in everything]


def test_free_text_both_sides(service, filled):
    d, t = filled
    assert service.match_text("熟悉PLC编程与电气控制", "demands", 3)[0].id == d[1]
    assert service.match_text("招聘会SystemVerilog的验证工程师", "talents", 3)[0].id == t[2]
    with pytest.raises(InvalidInput):
        service.match_text("   ", "demands", 3)
    with pytest.raises(InvalidInput):
        service.match_text("x", "demands", 0)


def test_unknown_ids_and_codes(service, filled):
    with pytest.raises(NotFound):
        service.match_talent(999)
    with pytest.raises(InvalidInput):
        service.add("demand", [demand(occupation_code="9-99-99-99")])
    with pytest.raises(InvalidInput):
        service.add("demand", [demand(chain_id="不存在的产业链")])


def test_updates_and_deletes_reach_the_index(service, filled):
    d, t = filled
    service.update("demand", d[1], demand(title="PLC电气工程师", required_skills=["PLC编程"], status="closed"))
    assert d[1] not in [m.id for m in service.match_talent(t[1], top_k=10)]
    service.delete("demand", d[0])
    assert d[0] not in [m.id for m in service.match_talent(t[0], top_k=10)]
    status = service.index_status()
    assert status["demand"]["in_step"] and status["demand"]["indexed"] == 1


def test_indexes_persist_and_reconcile_without_reencoding(settings, fake_encoder, filled, service):
    service.save_all()
    service.sync()
    before = service.cached.encoded
    assert before > 0
    # a second service on the same data dir loads the saved index: nothing is re-encoded
    again = build_service(settings, encoder=fake_encoder)
    again.ensure_index("demand")
    again.ensure_index("talent")
    assert again.cached.encoded == 0
    assert again.index_status()["demand"]["in_step"]
    # a change made behind its back (another process) is picked up on the next load
    d, _ = filled
    service.update("demand", d[0], demand(title="数据仓库工程师", required_skills=["Hive"]))
    third = build_service(settings, encoder=fake_encoder)
    third.ensure_index("demand")
    assert third.cached.encoded == 0  # the new text was encoded once, by the writer, and cached
    assert third.index_status()["demand"]["in_step"]
    again.close()
    third.close()


def test_index_for_another_model_is_rebuilt(settings, filled, service):
    from models.encoders import FakeEncoder

    service.sync()
    other = build_service(settings, encoder=FakeEncoder(32))
    side = other.ensure_index("demand")
    assert side.dense.dim == 32 and len(side.dense) == 3
    other.close()


def test_import_rows_all_or_nothing(service):
    from matcher.core.errors import RowError

    rows = [(2, demand(title="A")), (3, demand(title="B", chain_id="没有这条链"))]
    with pytest.raises(ImportRejected) as exc:
        service.import_rows("demands", rows, [])
    assert [(e.row, e.field) for e in exc.value.errors] == [(3, "chain_id")]
    assert service.store.count("demand") == 0
    report = service.import_rows("demands", rows, [RowError(4, "title", "不能为空")], skip_invalid=True)
    assert len(report["ids"]) == 1 and len(report["errors"]) == 2
    assert service.store.count("demand") == 1


def test_training_directions_cover_missing_skills(service):
    tips = service.training_for(["Spark", "Hive", "PLC编程"])
    assert tips[0].direction == "大数据" and set(tips[0].covers) == {"Spark", "Hive"}
    assert "数字技术工程师" in tips[0].message


def test_restart_reads_bm25_tokens_from_the_cache(settings, fake_encoder, filled, service, monkeypatch):
    from matcher.retrieval.lexical import Tokenizer

    d, t = filled
    service.sync()
    expected = service.match_talent(t[0], top_k=5)
    # the saved index carries the token lists: a restart tokenises nothing unchanged
    calls: list[str] = []
    real = Tokenizer.tokenize
    monkeypatch.setattr(Tokenizer, "tokenize", lambda self, text, **kw: calls.append(text) or real(self, text, **kw))
    again = build_service(settings, encoder=fake_encoder)
    side = again.ensure_index("demand")
    assert calls == [] and len(side.lexical) == len(d)
    assert [m.id for m in again.match_talent(t[0], top_k=5)] == [m.id for m in expected]
    again.close()
    # a record changed by another process is tokenised again, alone
    service.update("demand", d[0], demand(title="数据仓库工程师", required_skills=["Hive"]))
    calls.clear()
    third = build_service(settings, encoder=fake_encoder)
    third.ensure_index("demand")
    assert len(calls) == 1 and "数据仓库工程师" in calls[0]
    third.close()


def test_services_share_models_through_wiring_only(settings, fake_encoder, service):
    from matcher.wiring import PROCESS_MODELS

    assert service.shared is PROCESS_MODELS and service.coder.tokenizer is service.tokenizer
    again = build_service(settings, encoder=fake_encoder)
    assert again.tokenizer is service.tokenizer and again.coder is service.coder
    alone = MatchService(settings, encoder=fake_encoder)  # no cache given: builds its own
    assert alone.tokenizer is not service.tokenizer
    assert alone.tokenizer.fingerprint() == service.tokenizer.fingerprint()
    assert alone.tokenizer.tokenize("大数据工程技术人员 Spark") == service.tokenizer.tokenize("大数据工程技术人员 Spark")
    again.close()
    alone.close()


def test_with_encoder_leaves_the_live_service_alone(service, filled):
    from matcher.evaluation.rankers import QueryMemo

    d, t = filled
    coder_encoder = service.coder.encoder
    memo = QueryMemo(service.encoder)
    twin = service.with_encoder(memo)
    assert twin.store is service.store and twin.indexes is service.indexes and twin.reference is service.reference
    assert [m.id for m in twin.match_text("大数据 Spark", "demands")] == \
        [m.id for m in service.match_text("大数据 Spark", "demands")]
    twin.code_occupations(["大数据工程师"])
    twin.match_profile(talent(desired_occupations=["数据分析师"]))
    assert memo.encoded == 3  # two texts coded, one text matched; each once
    assert service.cached.encoder is service.encoder and service.coder.encoder is coder_encoder
    assert twin.coder is not service.coder and twin.coder.tokenizer is service.tokenizer
    from matcher.core.settings import Weights

    before = service.score_pair(talent(), demand(), 0.9, background=0.5).score
    twin.weights = Weights(employer_share=0.0)
    assert service.score_pair(talent(), demand(), 0.9, background=0.5).score == before
    assert twin.score_pair(talent(), demand(), 0.9, background=0.5).score != before


@pytest.mark.parametrize(("name", "masked"), [("张三", "张*"), ("王小明", "王**"), ("欧阳娜娜", "欧***"),
                                              ("司马相如", "司***"), ("Alice", "A****")])
def test_names_are_masked_whatever_their_length(name, masked):
    from matcher.domain.auth import mask_name

    assert mask_name(name) == masked
    assert name[1:] not in mask_name(name)


def test_no_stated_education_does_not_pass_a_post_that_requires_one(service):
    post = demand(title="数据分析师", education="本科", required_skills=["SQL"])
    unknown = talent(name="钱七", education=None, skills=["SQL"])
    bachelor = talent(name="孙八", education="本科", skills=["SQL"])
    sc = service.scorer.score(unknown, post, 0.8, 0.2, target="talent")
    assert not sc.eligible and any(r.kind == "education" for r in sc.unmet)
    assert sc.comp["education"] == 0.0
    assert service.scorer.score(bachelor, post, 0.8, 0.2, target="talent").eligible


def test_a_static_index_encoder_keeps_the_coder_on_its_own_encoder(tmp_path):
    """encoder = static-e5 indexes with the static table; coder_encoder names the coder's own."""
    from matcher.core.settings import PROJECT_ROOT, Settings

    settings = Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="static-e5",
                        coder_encoder="fake")
    svc = build_service(settings)
    try:
        assert svc.encoder.name.startswith("static-e5-")
        assert svc.coder.encoder.name != svc.encoder.name and svc.coder.encoder.dim == 64
        [i] = svc.add("demand", [demand(title="大数据开发工程师", required_skills=["Python", "Spark"])])
        hits = svc.match_text("熟悉Python和Spark的大数据工程师", side="demands", top_k=3)
        assert [h.id for h in hits][:1] == [i]
        assert svc.indexes.status()["demand"]["in_step"]
    finally:
        svc.close()
    same = Settings(data_dir=tmp_path / "var2", reference_dir=PROJECT_ROOT / "data", encoder="static-e5")
    svc = build_service(same)
    try:
        assert svc.coder.encoder is svc.encoder
    finally:
        svc.close()


@pytest.mark.parametrize("slots", [1, 2, 0])
def test_rankings_at_once_are_bounded_by_rank_concurrency(tmp_path, fake_encoder, slots) -> None:
    """``rank_concurrency`` rankings run at once in a process (0: no limit); the others wait for
    a slot and get the same lists as when run alone."""
    import threading

    from matcher.core.settings import PROJECT_ROOT, Settings
    from matcher.wiring import build_service

    svc = build_service(Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake",
                                 rank_concurrency=slots, result_cache_size=0), encoder=fake_encoder)
    try:
        tids = svc.add("talent", [talent(name=f"人{i}", phone=f"136{i:08d}") for i in range(4)])
        svc.add("demand", [demand(title=f"数据工程师{i}") for i in range(6)])
        alone = {t: [(m.id, m.score) for m in svc.match_talent(t, 5)] for t in tids}
        inner = svc._ranked_views_now
        lock, inside, peak = threading.Lock(), [0], [0]
        gate = threading.Barrier(4, timeout=1.0)

        def counted(*a, **k):
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            try:  # wait for the others to come in too (as far as slots let them)
                gate.wait()
            except threading.BrokenBarrierError:
                pass
            try:
                return inner(*a, **k)
            finally:
                with lock:
                    inside[0] -= 1

        svc._ranked_views_now = counted  # type: ignore[method-assign]
        got: dict[int, list] = {}
        threads = [threading.Thread(target=lambda t=t: got.__setitem__(t, [(m.id, m.score)
                                                                         for m in svc.match_talent(t, 5)]))
                   for t in tids]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert got == alone
        assert peak[0] == (4 if slots == 0 else slots)
    finally:
        svc.close()
