"""Read-side queries give the same answers on every database backend."""

from __future__ import annotations

from data.store import repositories as repo
from data.store.db import Database
from tests.store_support import all_tasks


def test_partner_tasks_lists_each_task_once_in_table_order(seeded_db: Database) -> None:
    """/cuatoi and guided /capnhat read this; PostgreSQL cannot DISTINCT over a JSON column."""
    with seeded_db.session() as session:
        tasks = all_tasks(session)
        agencies = [a.id for a in repo.all_agencies(session)]
        order = {task.id: index for index, task in enumerate(tasks)}
        for agency_id in agencies:
            expected = [t.id for t in tasks if any(p.agency_id == agency_id for p in t.partners)]
            assert [t.id for t in repo.partner_tasks(session, [agency_id])] == expected
        every = [t.id for t in repo.partner_tasks(session, agencies)]
        named = [t.id for t in tasks if t.partners]
        assert every == named  # tasks naming several of the agencies still come once
        assert every == sorted(every, key=order.__getitem__)
        assert repo.partner_tasks(session, []) == []
