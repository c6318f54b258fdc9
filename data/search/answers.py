"""The one-line answer a question asks for: who leads, who cooperates, what an agency does."""

from __future__ import annotations

from dataclasses import replace

from core.render import shorten
from data.search.agency_index import AgencyIndex
from data.search.question import Intent, Question
from data.search.task_index import TaskIndex
from data.search.types import AgencyDoc, Confidence, Hit, HitKind, SearchOutcome

TIE_WITHIN = 4.0  # answers this close to the best make the outcome ambiguous


class Answers:
    """Answers worded from the task and agency indexes."""

    def __init__(self, tasks: TaskIndex, agencies: AgencyIndex) -> None:
        self._tasks = tasks
        self._agencies = agencies

    def answered(self, outcome: SearchOutcome, question: Question) -> SearchOutcome:
        """Add the one-line answer the question's frame asks for."""
        if not outcome.found or not question.asked:
            return outcome
        top = outcome.hits[0]
        answer = ""
        tasks = [h for h in outcome.hits if h.kind is HitKind.TASK]
        several = outcome.confidence is Confidence.AMBIGUOUS and len(tasks) > 1
        if top.kind is HitKind.TASK and several and not question.partner:
            answer = self._leads_answer(tasks, top.score)
        elif top.kind is HitKind.TASK:
            answer = self._task_answer(top, question)
        else:
            answer = self._agency_answer(top, question)
        return replace(outcome, answer=answer) if answer else outcome

    def _index_of(self, hit: Hit) -> int | None:
        tasks = self._tasks
        return next(
            (i for i in tasks.by_code.get(hit.key, []) if tasks.programmes[i] == hit.programme),
            None,
        )

    def _leads_answer(self, hits: list[Hit], top: float) -> str:
        """Close answers: each lead agency with the tasks it leads among them."""
        by_lead: dict[str, list[str]] = {}
        for hit in hits:
            index = self._index_of(hit)
            if index is None or hit.score < top - TIE_WITHIN:
                continue
            lead = self._tasks.leads[index] or "(chưa ghi đơn vị chủ trì)"
            by_lead.setdefault(lead, []).append(hit.key)
        return "; ".join(
            f"{lead} chủ trì nhiệm vụ {', '.join(codes)}" for lead, codes in by_lead.items()
        )

    def _task_answer(self, hit: Hit, question: Question) -> str:
        tasks = self._tasks
        index = self._index_of(hit)
        if index is None:
            return ""
        title = shorten(tasks.titles[index], 70, at_word=True)
        lead = tasks.leads[index] or "(chưa ghi đơn vị chủ trì)"
        if question.partner and tasks.partners[index]:
            names = "; ".join(tasks.partners[index][:4])
            more = "…" if len(tasks.partners[index]) > 4 else ""
            return f"Phối hợp nhiệm vụ {hit.key} ({title}): {names}{more}; chủ trì: {lead}."
        return f"{lead} chủ trì nhiệm vụ {hit.key}: {title}"

    def _agency_answer(self, hit: Hit, question: Question) -> str:
        agency = next((a for a in self._agencies.agencies if a.name == hit.key), None)
        if agency is None:
            return ""
        if question.intent is Intent.SUCCESSION:
            if agency.current_name != agency.name:
                note = f" ({agency.succession})" if agency.succession else ""
                return f"{agency.name} nay là {agency.current_name}{note}."
            return f"{agency.name} vẫn giữ tên như trong quyết định năm 2021."
        return self._duties_answer(agency, question.partner)

    def _duties_answer(self, agency: AgencyDoc, partner_only: bool) -> str:
        """What an agency leads and cooperates on, with the tasks of agencies it took over."""
        family = [agency]
        if agency.current_name == agency.name:
            family += [
                a
                for a in self._agencies.agencies
                if a.current_name == agency.name and a.name != agency.name
            ]
        led: list[tuple[AgencyDoc, list[int]]] = []
        partnered: list[tuple[AgencyDoc, list[int]]] = []
        seen_led: set[int] = set()
        for member in family:
            key = _answer_name(member)
            own = [i for i in self._tasks.led_by.get(key, []) if i not in seen_led]
            seen_led.update(own)
            led.append((member, own))
        seen: set[int] = set() if partner_only else set(seen_led)
        for member in family:
            key = _answer_name(member)
            own = [i for i in self._tasks.partnered_by.get(key, []) if i not in seen]
            seen.update(own)
            partnered.append((member, own))
        name = _answer_name(agency)
        if partner_only:
            part = self._duty_part(agency, partnered, "phối hợp", codes=True)
            return f"{name} {part or 'không phối hợp nhiệm vụ nào'}."
        lead_part = self._duty_part(agency, led, "chủ trì", codes=True)
        partner_part = self._duty_part(agency, partnered, "phối hợp", codes=False)
        if not lead_part and not partner_part:
            return f"{name} không chủ trì hay phối hợp nhiệm vụ nào được nêu tên trong quyết định."
        if not lead_part:
            return f"{name} không chủ trì nhiệm vụ nào; {partner_part}."
        return f"{name} {'; '.join(p for p in (lead_part, partner_part) if p)}."

    def _duty_part(
        self,
        agency: AgencyDoc,
        groups: list[tuple[AgencyDoc, list[int]]],
        verb: str,
        codes: bool,
    ) -> str:
        """ "chủ trì 3 nhiệm vụ (tiếp nhận từ …): 2.4, 5.2" — "" when there are none."""
        total = sum(len(rows) for _, rows in groups)
        if not total:
            return ""
        code_of = self._tasks.codes
        inherited = [(m, rows) for m, rows in groups if m is not agency and rows]
        own = next((rows for m, rows in groups if m is agency), [])
        note = ""
        if inherited and not own:
            note = f" (tiếp nhận từ {', '.join(m.name for m, _ in inherited)})"
        elif inherited:
            taken = "; ".join(
                (f"{', '.join(code_of[i] for i in rows[:12])} " if codes else f"{len(rows)} ")
                + f"tiếp nhận từ {m.name}"
                for m, rows in inherited
            )
            note = f" ({taken})"
        text = f"{verb} {total} nhiệm vụ{note}"
        if codes:
            rows = sorted((i for _, r in groups for i in r))
            listed = ", ".join(code_of[i] for i in rows[:12])
            text += f": {listed}{'…' if len(rows) > 12 else ''}"
        return text


def _answer_name(agency: AgencyDoc) -> str:
    """An agency as named in answers (and in TaskDoc.lead_answer)."""
    if agency.current_name == agency.name:
        return agency.name
    return f"{agency.current_name} (năm 2021: {agency.name})"
