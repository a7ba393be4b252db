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
