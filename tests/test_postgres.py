"""The importer, documents and export against PostgreSQL (skipped when the server is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from data.importing.decision_text import DecisionFormatError
from data.importing.importer import SEED_FILE, ensure_seed, import_file
from data.reports.export import export_programmes
from data.search.documents import documents
from data.store.db import Database
from data.store.models import Agency, AgencyAlias, Measure, Programme, Task, TaskPartner

pytestmark = pytest.mark.postgres

SYNTHETIC = Path(__file__).parent / "fixtures" / "qd_2468_2022_synthetic.txt"


def _counts(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Programme, Task, Agency, AgencyAlias, TaskPartner, Measure)
        }


def test_seed_into_postgres(pg_db: Database) -> None:
    assert pg_db.engine.dialect.name == "postgresql"
    report = ensure_seed(pg_db)
    assert report is not None and (report.sectors, report.tasks) == (9, 44)
    assert ensure_seed(pg_db) is None
    with pg_db.session() as session:
        tasks, agencies = documents(session)
        data = export_programmes(session)
    assert len(tasks) == 44
    by_code = {t.code: t for t in tasks}
    assert any("5G" in m for m in by_code["1.2"].measures)
    assert by_code["2.4"].lead == "Sở Giao thông vận tải — nay là Sở Xây dựng"
    names = {a.name: a for a in agencies}
    assert names["Sở Kế hoạch và Đầu tư"].current_name == "Sở Tài chính"
    (programme,) = data["programmes"]
    assert programme["issued_on"] == "2021-11-04"
    task_26 = next(t for t in programme["tasks"] if t["code"] == "2.6")
    assert 2030 in task_26["target_years"]


def test_reimport_idempotent_in_postgres(pg_db: Database) -> None:
    ensure_seed(pg_db)
    before = _counts(pg_db)
    with pg_db.session() as session:
        ids = {code: id_ for code, id_ in session.execute(select(Task.code, Task.id))}
    with pg_db.unit_of_work() as session:
        assert not import_file(session, SEED_FILE).created
    assert _counts(pg_db) == before
    with pg_db.session() as session:
        assert {code: id_ for code, id_ in session.execute(select(Task.code, Task.id))} == ids
    with pg_db.unit_of_work() as session:
        import_file(session, SYNTHETIC)
    after = _counts(pg_db)
    assert after["Programme"] == 2 and after["Agency"] == before["Agency"]


def test_rejected_file_writes_nothing_in_postgres(pg_db: Database, tmp_path: Path) -> None:
    junk = tmp_path / "rac.txt"
    junk.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(DecisionFormatError), pg_db.unit_of_work() as session:
        import_file(session, junk)
    assert all(count == 0 for count in _counts(pg_db).values())
