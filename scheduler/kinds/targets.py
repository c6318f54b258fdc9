"""Whom programme-wide and admin-made kinds reach: shared by the kinds that need it."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from data.store.models import Programme, ReminderRule
from scheduler.directory import AgencyRef, Destination, Directory, Missing
from scheduler.kinds.base import Occurrence, Plan, own_agency


def coordinator_of(programme: Programme, directory: Directory) -> AgencyRef | None:
    """The programme's coordinating agency as it exists today, if any."""
    if programme.coordinating_agency_id is None:
        return None
    agency = directory.agencies.get(programme.coordinating_agency_id)
    if agency is None:
        return None
    return directory.ref(directory.current[agency.id], [agency.name])


def yearly(
    session: Session, rule: ReminderRule, plan: Plan, directory: Directory
) -> tuple[Occurrence, list[Missing], AgencyRef | None] | None:
    """(common part of the occurrences, agencies not reported, coordinator) for a yearly plan."""
    programme = rule.programme
    if programme is None or plan.year is None:
        return None
    missing, total = directory.missing(session, programme.id, plan.year)
    coordinator = coordinator_of(programme, directory)
    common = Occurrence(
        rule_id=rule.id,
        due=plan.due,
        kind=plan.kind,
        programme=programme.decision_number,
        plan=plan,
        reporting_total=total,
        coordinator=coordinator.name if coordinator else "",
    )
    return common, missing, coordinator


def to_coordinator(
    session: Session,
    rule: ReminderRule,
    plan: Plan,
    directory: Directory,
    *,
    only_when_missing: bool,
) -> list[Occurrence]:
    """One occurrence for the coordinating agency listing the agencies that have not reported."""
    found = yearly(session, rule, plan, directory)
    if found is None:
        return []
    common, missing, coordinator = found
    if coordinator is None or (only_when_missing and not missing):
        return []
    tasks = {task.code: task for item in missing for task in item.tasks}
    return [
        replace(
            common,
            agency=coordinator,
            tasks=tuple(sorted(tasks.values(), key=lambda task: task.position)),
            missing=tuple(missing),
            destinations=tuple(directory.destinations(coordinator.id)),
        )
    ]


def coordinator_reached(rule: ReminderRule, directory: Directory, agency_id: int) -> bool:
    """Whether the agency coordinates the rule's programme (or is the agency the rule names)."""
    if rule.programme is None:
        return own_agency(rule, directory, agency_id)
    coordinator = rule.programme.coordinating_agency_id
    return coordinator is not None and directory.current.get(coordinator) == agency_id


def in_chat(rule: ReminderRule, plan: Plan, directory: Directory) -> list[Occurrence]:
    """An admin's reminder: to the chat it was made in, else to the agency the chat belongs to."""
    agency: AgencyRef | None = None
    destinations: list[Destination] = []
    if rule.platform and rule.chat_id and (rule.platform, rule.chat_id) not in directory.inactive:
        topic = directory.topics.get((rule.platform, rule.chat_id))
        destinations.append(Destination(rule.platform, rule.chat_id, "chat", topic))
    if rule.agency_id is not None and rule.agency_id in directory.agencies:
        home = directory.current.get(rule.agency_id, rule.agency_id)
        agency = directory.ref(home, [directory.agencies[rule.agency_id].name])
        if not destinations:
            destinations = directory.destinations(home)
    return [
        Occurrence(
            rule_id=rule.id,
            due=plan.due,
            kind=plan.kind,
            plan=plan,
            agency=agency,
            text=rule.text,
            destinations=tuple(destinations),
        )
    ]
