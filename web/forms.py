"""The form of each page and the API input model that validates it (one model for pages and API)."""

from __future__ import annotations

from matcher.domain.views import EnterpriseDemandIn, EnterpriseIn, SeekerTalentIn
from matcher.zone.graduates import SubscriptionIn
from web.common import (
    Form,
)

PROFILE_LISTS = ("skills", "certificates", "preferred_cities", "desired_occupations", "desired_chains")
PROFILE_NUMBERS = ("graduation_year", "experience_years", "salary_min", "salary_max")
PROFILE_CHECKS = ("fresh_graduate", "consent")
PROFILE_KEEP = ("national_id", "external_id", "digital_certs", "status")  # not on the form: kept as they are


ENTRY_LISTS = ("required_skills", "preferred_skills", "majors")
ENTRY_NUMBERS = ("headcount", "min_experience_years", "salary_min", "salary_max")
ENTRY_KEEP = ("external_id", "required_certificates", "required_title_level", "required_skill_level",
               "shortage_level", "valid_from", "valid_until")

FORMS = {
    "profile": Form(SeekerTalentIn, ("name", "phone", "education", "major", "school", "graduation_year", "city",
                               "experience_years", "fresh_graduate", "skills", "certificates", "title_level",
                               "skill_level", "desired_occupations", "desired_chains", "preferred_cities",
                               "salary_min", "salary_max", "summary", "consent"),
                    lists=PROFILE_LISTS, numbers=PROFILE_NUMBERS, checks=PROFILE_CHECKS),
    "company": Form(EnterpriseIn, ("name", "credit_code", "city", "chain_id", "description")),
    "entry": Form(EnterpriseDemandIn, ("title", "occupation_code", "city", "chain_id", "headcount", "education",
                             "required_skills", "preferred_skills", "majors", "min_experience_years", "salary_min",
                             "salary_max", "status", "fresh_graduates_ok", "description"),
                  lists=ENTRY_LISTS, numbers=ENTRY_NUMBERS, checks=("fresh_graduates_ok",)),
    "subscription": Form(SubscriptionIn, ("cities", "chains", "occupations"),
                         lists=("cities", "chains", "occupations")),
}

# the Chinese label of every form field: error summaries name fields by these, never by code names
LABELS = {
    "profile": {"name": "姓名", "phone": "手机号", "education": "最高学历", "major": "专业", "school": "毕业院校",
                "graduation_year": "毕业年份", "city": "所在城市", "experience_years": "工作年限",
                "fresh_graduate": "应届毕业生", "skills": "技能", "certificates": "证书", "title_level": "职称",
                "skill_level": "职业技能等级", "desired_occupations": "意向职业", "desired_chains": "意向产业链",
                "preferred_cities": "意向城市", "salary_min": "期望月薪下限", "salary_max": "期望月薪上限",
                "summary": "个人简介", "consent": "公开联系方式"},
    "company": {"name": "企业名称", "credit_code": "统一社会信用代码", "city": "所在城市", "chain_id": "所属产业链",
                "description": "企业简介"},
    "entry": {"title": "岗位名称", "occupation_code": "职业编码", "city": "工作城市", "chain_id": "所属产业链",
              "headcount": "招聘人数", "education": "学历要求", "required_skills": "必备技能",
              "preferred_skills": "加分技能", "majors": "专业要求", "min_experience_years": "工作年限要求",
              "salary_min": "月薪下限", "salary_max": "月薪上限", "status": "状态",
              "fresh_graduates_ok": "接受应届毕业生", "description": "岗位描述"},
    "subscription": {"cities": "城市", "chains": "产业链", "occupations": "职业"},
}
