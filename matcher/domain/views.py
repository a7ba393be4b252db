"""Request and response models of the HTTP API (the domain models live in matcher.domain.schemas).

Input models leave out what the server decides (ids, the owning enterprise, derived names);
patch models make every field optional; the talent view never carries a national ID.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, field_validator

from matcher.core.errors import InvalidInput
from matcher.domain import validators
from matcher.domain.auth import Principal, Role
from matcher.domain.schemas import (
    MAX_TEXT,
    MAX_TITLE,
    DemandEntry,
    Enterprise,
    MatchFilters,
    RecordId,
    StrictInt,
    TalentProfile,
    scrub_controls,
)

T = TypeVar("T")


class InputModel(BaseModel):
    """Base of request bodies: unknown fields rejected, control characters dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        return scrub_controls(value)


class CheckedInput(InputModel):
    """Base of the bodies a person writes (profiles, enterprises, entries)."""

    # what a person types is checked here, for pages and API alike (imports keep the domain rules)
    @field_validator("phone", check_fields=False)
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return validators.phone(value)

    @field_validator("credit_code", check_fields=False)
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        return validators.credit_code(value)

    @field_validator("headcount", check_fields=False)
    @classmethod
    def _headcount(cls, value: int | None) -> int | None:
        return validators.headcount(value)


def derived_model(name: str, base: type[BaseModel], drop: set[str], *, optional: bool = False,
             extra: dict[str, Any] | None = None, doc: str = "", checked: bool = True) -> type[BaseModel]:
    """A model with ``base``'s fields minus ``drop`` (all optional with ``optional``)."""
    fields: dict[str, Any] = {}
    for fname, info in base.model_fields.items():
        if fname in drop:
            continue
        if optional:  # the field's own limits stay (max_length, ge/le ...); only the default changes
            ann: Any = info.annotation
            if info.metadata:
                ann = Annotated.__class_getitem__((ann, *info.metadata))  # type: ignore[attr-defined]
            fields[fname] = (ann | None, Field(default=None, description=info.description))
        else:
            fields[fname] = (info.annotation, info)
    fields.update(extra or {})
    model = create_model(name, __base__=CheckedInput if checked else InputModel, __doc__=doc or base.__doc__, **fields)
    return model


_SERVER_DEMAND = {"id", "enterprise_id", "enterprise_name", "catalogue_id", "occupation_name",
                  "occupation_confidence", "source", "chain_suggested", "chain_confidence"}
DemandIn = derived_model("DemandIn", DemandEntry, _SERVER_DEMAND,
                    doc="A demand entry as an enterprise writes it (the server sets ids and names).")
DemandPatch = derived_model("DemandPatch", DemandEntry, _SERVER_DEMAND, optional=True,
                       doc="Fields to change in a demand entry; absent fields stay as they are.")
TalentIn = derived_model("TalentIn", TalentProfile, {"id"}, doc="A talent profile as its owner writes it.")
TalentPatch = derived_model("TalentPatch", TalentProfile, {"id"}, optional=True,
                       doc="Fields to change in a talent profile; absent fields stay as they are.")
EnterpriseIn = derived_model("EnterpriseIn", Enterprise, {"id"}, doc="An enterprise's registration data.")
EnterprisePatch = derived_model("EnterprisePatch", Enterprise, {"id"}, optional=True,
                           doc="Fields to change in an enterprise; absent fields stay as they are.")

# What a seeker or an enterprise may write: the same, without the external id, which belongs to
# whoever created the record (staff and importers; see matcher.storage.records.external_scope). The routes
# take TalentIn/DemandIn (staff may set external_id) and hold other callers to these.
SeekerTalentIn = derived_model("SeekerTalentIn", TalentProfile, {"id", "external_id"},
                          doc="A talent profile as a seeker writes it (no external id).")
SeekerTalentPatch = derived_model("SeekerTalentPatch", TalentProfile, {"id", "external_id"}, optional=True,
                             doc="Fields a seeker changes in their profile (no external id).")
EnterpriseDemandIn = derived_model("EnterpriseDemandIn", DemandEntry, _SERVER_DEMAND | {"external_id"},
                              doc="A demand entry as an enterprise writes it (no external id).")
EnterpriseDemandPatch = derived_model("EnterpriseDemandPatch", DemandEntry, _SERVER_DEMAND | {"external_id"},
                                 optional=True, doc="Fields an enterprise changes in an entry (no external id).")

EXTERNAL_ID_REFUSED = "外部编号只能由管理员、活动组织方或导入设置，求职者和企业不能设置或修改"


def owner_body(who: Principal, body: BaseModel, current_external_id: str | None = None) -> dict[str, Any]:
    """The fields a caller sent, held to what the caller may write: a seeker or an enterprise may
    leave ``external_id`` out or send it back unchanged (a GET -> PUT round trip), never set or
    change it (422 on the field). Staff may set it."""
    data = body.model_dump(exclude_unset=True)
    if who.is_staff or "external_id" not in data:
        return data
    if data["external_id"] != current_external_id:
        raise InvalidInput(EXTERNAL_ID_REFUSED, [{"field": "external_id", "in": "body",
                                                 "reason": EXTERNAL_ID_REFUSED}])
    del data["external_id"]
    return data


TalentView = derived_model(
    "TalentView", TalentProfile, {"national_id"},
    extra={"contact_visible": (bool, Field(description="false: 姓名与电话已脱敏（本人未同意向企业公开）"))},
    checked=False,  # a view shows stored (and masked) values as they are
    doc="A talent profile as the caller may see it: never the national ID; for an enterprise, name "
        "and phone masked unless the talent consented.")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class MatchRequest(InputModel):
    """Free text, or an unsaved profile or entry, to match against one side."""

    side: Literal["demands", "talents"] = "demands"
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    profile: TalentIn | None = None  # type: ignore[valid-type]
    entry: DemandIn | None = None  # type: ignore[valid-type]
    top_k: StrictInt = Field(default=10, ge=1, le=200)
    filters: MatchFilters = Field(default_factory=MatchFilters)


MAX_CODE_TEXT = 2000  # one text to code (a title or a short description)


class CodeRequest(InputModel):
    texts: list[Annotated[str, StringConstraints(max_length=MAX_CODE_TEXT)]] = Field(min_length=1, max_length=1000)
    top_k: StrictInt = Field(default=10, ge=1, le=100)


class KeyRequest(InputModel):
    role: Role
    enterprise_id: RecordId | None = None
    talent_id: RecordId | None = None
    label: str = Field(default="", max_length=MAX_TITLE)


class KeyInfo(BaseModel):
    id: int
    prefix: str
    role: str
    enterprise_id: int | None
    talent_id: int | None
    label: str
    created_at: str
    revoked: bool


class NewKey(BaseModel):
    key: str = Field(description="只显示这一次，请妥善保存")
    info: KeyInfo


class Me(BaseModel):
    role: str
    key_id: int | None
    enterprise_id: int | None
    talent_id: int | None
    label: str


class AuditEntry(BaseModel):
    id: int
    at: str
    actor_key_id: int | None
    actor_role: str
    actor_label: str
    action: str
    resource: str
    resource_id: str
    detail: dict[str, Any]


class RowErrorOut(BaseModel):
    row: int
    field: str
    reason: str
    value: str | None = None


class CreatedChain(BaseModel):
    id: str
    name: str


class ImportReport(BaseModel):
    imported: int
    total_rows: int
    catalogue_id: int | None = None
    ids: list[int]
    errors: list[RowErrorOut] = Field(default_factory=list, description="--skip-invalid 时跳过的行")
    warnings: list[str] = Field(default_factory=list,
                                description="按推断读入的内容：补全的“同上”空格、表格下方未导入的说明行")
    created_chains: list[CreatedChain] = Field(default_factory=list, description="create_chains 时新建的产业链")
    replaced_catalogue_id: int | None = Field(default=None, description="replace 时被替换的原目录编号")
    replaced_entries: int | None = Field(default=None, description="被替换的原目录的条目数")


class CatalogueInfo(BaseModel):
    id: int
    region: str
    year: int
    name: str | None
    chain_registry: str | None
    entries: int
