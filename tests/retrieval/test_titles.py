"""Job-title clean-up: what a posting adds around the occupation goes, the job words stay."""

from __future__ import annotations

import pytest

from matcher.retrieval.occupation_features import head_word
from matcher.retrieval.titles import clean_title, head_segment


@pytest.mark.parametrize("raw, clean", [
    ("急招！高级Java开发工程师（双休+五险一金）", "Java开发工程师"),
    ("机械设计工程师+包食宿+10K", "机械设计工程师"),
    ("连云港泽野机械设备招聘焊工", "焊工"),
    ("揭阳市榕城区志在...招聘后厨", "后厨"),
    ("普工坐班包吃住300预支", "普工"),
    ("高薪美甲师6000-12000", "美甲师"),
    ("销售经理-（海口）", "销售经理"),
    ("（包吃有双休）客户业务员", "客户业务员"),
    ("无责底薪，早九晚六，电话客服", "电话客服"),
    ("普工/操作工", "普工 操作工"),
])
def test_decorations_salary_hiring_words_and_brackets_go(raw, clean):
    assert clean_title(raw) == clean


@pytest.mark.parametrize("title", ["招聘专员", "薪资核算专员", "销售实习生", "培训讲师", "合同管理员"])
def test_job_words_that_look_like_decorations_stay(title):
    assert clean_title(title) == title


def test_head_segment_is_the_first_job_and_nothing_is_lost():
    assert head_segment("质检员/仓管员/普工8000+签合同/工资有保障") == "质检员"
    assert clean_title("（急招）") == "(急招)"  # nothing but decoration: the normalised text stays
    assert clean_title("") == "" and head_segment("  ") == ""
    assert clean_title("數據庫管理員") == "数据库管理员"  # normalised like every text


def test_head_word_is_the_last_head_noun():
    assert head_word("白酒销售业务员") == "业务员"
    assert head_word("Java后端开发工程师") == "工程师"
    assert head_word("区域经理") == "经理"
    assert head_word("xyz") == ""
