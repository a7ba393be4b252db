"""``talentmatch index``: keep the vector and BM25 indexes in step with the database."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from matcher.cli.common import (
    ProgressBar,
    err,
    out,
    run_service,
    run_settings,
)

index_app = typer.Typer(no_args_is_help=True, help="向量索引维护")
SIDES = {"demand": "需求", "talent": "人才"}

@index_app.command("sync")
def index_sync() -> None:
    """让索引与数据库一致（只编码新增或变化的记录）并保存。"""
    svc = run_service()

    def moving(side: str, was: str, becomes: str, n: int) -> None:
        err.print(f"{SIDES[side]}侧向量索引（{n:,} 条）由 {was} 转为 {becomes}，用已保存的向量重建（百万条约需数分钟）……",
                  markup=False, highlight=False)

    with ProgressBar("编码") as bar:
        counts = svc.sync(progress=bar, moving=moving)
    out.print(f"索引已同步：需求 {counts['demand']} 条，人才 {counts['talent']} 条。")
    svc.close()


@index_app.command("rebuild")
def index_rebuild() -> None:
    """从数据库重建两侧索引。"""
    svc = run_service()
    with ProgressBar("编码") as bar:
        d = svc.rebuild("demand", bar)
        t = svc.rebuild("talent", bar)
    out.print(f"索引已重建：需求 {d} 条，人才 {t} 条。")
    svc.close()


@index_app.command("status")
def index_status(
    verify: Annotated[bool, typer.Option("--verify", help="逐字节校验索引文件（校验和、读出向量编号与全部分词列表；"
                                                          "索引大时需数秒）")] = False,
) -> None:
    """磁盘上保存的索引与数据库是否一致（只检查，不修复；不一致时运行 index sync）。

    默认只读清单与文件大小，很快；--verify 另做完整校验。"""
    # no service: the records' text hashes (an SQLite file read with sqlite3, read-only; other
    # databases with SQLAlchemy Core; nothing written; a database not set up yet goes through
    # the store, which sets it up), the saved manifests and files (by size, or every byte with
    # --verify) and the encoder's name and dimension are all it reads
    from matcher.retrieval.encoders import build_encoder
    from matcher.retrieval.saved import saved_status
    from matcher.storage.peek import RecordHashes

    settings = run_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    encoder = build_encoder(settings.encoder, settings.encoder_model)
    records: Any = RecordHashes(settings.db_url())
    try:
        if not records.ready():
            from matcher.storage.store import Store

            records.close()
            records = Store(settings.db_url())
        status = saved_status(settings, records, encoder.name, encoder.dim, verify=verify)
    finally:
        records.close()
    out.print_json(data=status)
    for kind, label in SIDES.items():
        entry = status.get(kind, {})
        if entry.get("kind_for_size"):
            out.print(f"{label}侧向量索引（{entry['indexed']:,} 条）宜由 {entry['kind']} 转为 {entry['kind_for_size']}："
                      "运行 `talentmatch index sync`（用已保存的向量重建，不重新编码）。", markup=False)
    if not all(v["in_step"] for v in status.values()):
        out.print("索引与数据库不一致：运行 `talentmatch index sync` 修复（运行中的服务会自动跟上数据库的变化）。")
