"""``talentmatch demo``: load the demo data, print a key per role, serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from matcher.cli.common import (
    ProgressBar,
    Step,
    out,
    run_service,
    run_settings,
)
from matcher.cli.serve import serve

if TYPE_CHECKING:  # imported by the command that needs it (heavy imports)
    from matcher.service import MatchService

demo_app = typer.Typer(invoke_without_command=True, help="演示数据：加载并启动服务")

COUNT_LABELS = {"chains": "产业链", "cached_vectors": "预计算向量", "enterprises": "企业", "demands": "需求条目",
                "talents": "人才档案", "catalogue_entries": "目录条目"}


def vector_seed_path(demo_dir: Path, encoder_name: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in encoder_name)
    return demo_dir / f"vectors-{safe}.npz"


def seed_vector_cache(svc: MatchService, demo_dir: Path) -> int:
    """Preload the encoding cache with the shipped vectors of the demo texts, if any.

    The cache is keyed by text hash, so a vector whose text changed is simply never used.
    """
    import numpy as np

    path = vector_seed_path(demo_dir, svc.encoder.name)
    if not path.exists():
        return 0
    with np.load(path) as data:
        hashes, vectors = data["hashes"], data["vectors"].astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    items = {str(h): v for h, v in zip(hashes, vectors, strict=True)}
    svc.store.put_many_vectors(svc.encoder.name, items)
    return len(items)


def load_demo(svc: MatchService, demo_dir: Path) -> dict[str, int]:
    """Load the bundled synthetic demo set into an empty store."""
    from matcher.domain.schemas import Catalogue, Enterprise
    from matcher.ingest.fields import load_mapping
    from matcher.ingest.importer import read_records

    counts: dict[str, int] = {"chains": svc.load_chain_registries()}
    if svc.store.count("demand") or svc.store.count("talent"):
        counts["skipped"] = 1
        return counts
    with Step("载入演示文本的预计算向量"):
        counts["cached_vectors"] = seed_vector_cache(svc, demo_dir)
    ent_path = demo_dir / "enterprises.jsonl"
    n = 0
    if ent_path.exists():
        for line in ent_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                data = json.loads(line)
                data.pop("id", None)
                if data.get("chain_id"):
                    data["chain_id"] = svc.resolve_chain(data["chain_id"])
                svc.store.add_enterprise(Enterprise.model_validate(data))
                n += 1
    counts["enterprises"] = n
    for kind, fname in (("demands", "demands.jsonl"), ("talents", "talents.jsonl")):
        result = read_records(demo_dir / fname, kind)  # type: ignore[arg-type]
        with ProgressBar(f"编码{fname}", total=len(result.records)) as bar:
            report = svc.import_rows(kind, result.records, result.errors, skip_invalid=False, progress=bar)
        counts[kind] = len(report["ids"])
    for cat_file in sorted(demo_dir.glob("catalogue_*.csv")):
        mapping = cat_file.with_suffix(".mapping.json")
        stem = cat_file.stem.split("_")  # catalogue_<registry>_<year>
        result = read_records(cat_file, "catalogue", load_mapping(mapping) if mapping.exists() else None)
        region = {"zibo": "淄博市", "shandong": "山东省"}.get(stem[1], stem[1])
        cat = Catalogue(region=region, year=int(stem[2]), name=f"{region}{stem[2]}年急需紧缺数字工程师目录（演示）",
                        chain_registry=stem[1])
        with ProgressBar("编码目录", total=len(result.records)) as bar:
            report = svc.import_rows("catalogue", result.records, result.errors, skip_invalid=False,
                                     catalogue=cat, progress=bar)
        counts["catalogue_entries"] = counts.get("catalogue_entries", 0) + len(report["ids"])
    return counts


def demo_keys(svc: MatchService) -> list[tuple[str, str]]:
    """Fresh keys for trying each role on the demo data: an administrator, an organiser, the
    first enterprise and the first talent profile."""
    out_keys = [("管理员 admin", svc.store.create_key("admin", label="demo")[0]),
                ("活动组织方 organiser", svc.store.create_key("organiser", label="demo")[0])]
    enterprises = svc.store.list_enterprises(0, 1)
    if enterprises:
        key = svc.store.create_key("enterprise", enterprise_id=enterprises[0].id, label="demo")[0]
        out_keys.append((f"企业 enterprise（{enterprises[0].name}）", key))
    talents, _ = svc.store.list("talent", limit=1)
    if talents:
        key = svc.store.create_key("seeker", talent_id=talents[0].id, label="demo")[0]
        out_keys.append((f"求职者 seeker（人才档案 {talents[0].id}）", key))
    return out_keys


@demo_app.callback()
def demo(
    ctx: typer.Context,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="加载后启动 API 服务")] = True,
    demo_dir: Annotated[Path | None, typer.Option(help="演示数据目录")] = None,
) -> None:
    """把合成演示数据加载进嵌入式 SQLite（若为空），建立索引，然后在 127.0.0.1:8000 提供 API。"""
    if ctx.invoked_subcommand:
        return
    settings = run_settings()
    out.print("正在准备演示环境（首次约需半分钟，以下各步会显示进度）。", highlight=False)
    with Step("启动匹配服务（加载编码模型与参考数据）"):
        svc = run_service(settings)
    counts = load_demo(svc, demo_dir or settings.reference_dir / "demo")
    if counts.pop("skipped", None):
        out.print("数据库中已有数据，跳过演示数据加载。")
    else:
        out.print("已加载演示数据（合成数据）：" + "，".join(f"{COUNT_LABELS.get(k, k)} {v}" for k, v in counts.items()),
                  highlight=False)
    with ProgressBar("建立索引") as bar:
        svc.sync(progress=bar)
    with Step("准备职业编码器"):
        svc.coder  # noqa: B018 - warm the occupation coder's vectors before serving
    keys = demo_keys(svc)
    svc.close()
    out.print(f"演示用密钥（只显示这一次）：网页 http://{settings.host}:{settings.port}/login 登录，或调用 API 时放在请求头 "
              "Authorization: Bearer <密钥>")
    for label, key in keys:
        out.print(f"  {label}：{key}", highlight=False)
    if serve_after:
        serve(settings.host, settings.port)

