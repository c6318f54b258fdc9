"""Answer lines of lookups: an agency's duties with what it took over, facts, off-topic frames."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.textnorm import fold
from data.search.documents import seed_documents
from data.search.facts import find_sentences, read_specs, signature_block
from data.search.types import AgencyDoc, Confidence, HitKind, TaskDoc

pytest_plugins = ("tests.bot_harness",)

TASKS, AGENCIES = seed_documents()


def _family_led(agency: AgencyDoc, tasks: tuple[TaskDoc, ...]) -> list[str]:
    """Codes led by the agency or by any agency that was merged into it."""
    name = agency.name
    return [
        t.code
        for t in tasks
        if t.lead_answer in {name} or t.lead_answer.startswith(f"{name} (năm 2021:")
    ]


SUCCESSORS = [
    a
    for a in AGENCIES
    if a.current_name == a.name
    and any(o.current_name == a.name and o.name != a.name for o in AGENCIES)
    and _family_led(a, TASKS)
]
DUTY_FRAMES = ["{} giờ chủ trì những gì", "{} làm gì", "{} phụ trách gì"]


def test_the_seed_has_agencies_that_took_others_over() -> None:
    assert {a.name for a in SUCCESSORS} >= {"Sở Xây dựng", "Sở Tài chính"}


@pytest.mark.parametrize("frame", DUTY_FRAMES)
@pytest.mark.parametrize("agency", SUCCESSORS, ids=lambda a: a.name)
def test_duties_count_the_tasks_taken_over(
    search_engine: Any, frame: str, agency: AgencyDoc
) -> None:
    led = _family_led(agency, TASKS)
    for query in (frame.format(agency.name.lower()), fold(frame.format(agency.name))):
        outcome = search_engine.search(query)
        assert outcome.hits[0].kind is HitKind.AGENCY, query
        answer = outcome.answer
        assert answer.startswith(f"{agency.name} chủ trì {len(led)} nhiệm vụ"), (query, answer)
        listed = re.findall(r"\b\d{1,2}\.\d{1,2}\b", answer.split(": ", 1)[1].split(";")[0])
        assert set(led) <= set(listed), (query, answer)
        assert "tiếp nhận từ" in answer


@pytest.mark.parametrize(
    "agency", [a for a in AGENCIES if not a.is_collective], ids=lambda a: a.name
)
def test_no_zero_counts_in_duty_answers(search_engine: Any, agency: AgencyDoc) -> None:
    answer = search_engine.search(f"{agency.name} làm gì").answer
    assert " 0 nhiệm vụ" not in answer
    assert "không có;" not in answer


# --- facts the decision states about itself ------------------------------------------------

FACTS = [
    ("ai ký quyết định 1731", ["Đặng Văn Minh", "Chủ tịch", "04/11/2021"], "Đặng Văn Minh"),
    ("người ký văn bản là ai", ["Đặng Văn Minh"], "Đặng Văn Minh"),
    ("tầm nhìn đến năm nào", ["2050"], "tầm nhìn đến năm 2050"),
    ("chương trình có hiệu lực từ khi nào", ["kể từ ngày ký", "04/11/2021"], "hiệu lực thi hành"),
    ("quyết định có hiệu lực từ ngày nào", ["kể từ ngày ký"], "hiệu lực thi hành"),
    ("ai chịu trách nhiệm thi hành quyết định", ["Chánh Văn phòng UBND tỉnh"], "chịu trách nhiệm"),
    ("những ai thi hành quyết định này", ["Chánh Văn phòng UBND tỉnh"], "chịu trách nhiệm"),
]


@pytest.mark.parametrize(("query", "parts", "quoted"), FACTS)
def test_facts_of_the_decision_itself(
    search_engine: Any, query: str, parts: list[str], quoted: str
) -> None:
    for typed in (query, fold(query)):
        outcome = search_engine.search(typed)
        assert not outcome.hits, typed  # a fact, never a task picked by its words
        for part in parts:
            assert part in outcome.answer, (typed, outcome.answer)
        assert quoted in outcome.source, (typed, outcome.source)


@pytest.mark.parametrize(
    ("lines", "block"),
    [
        (["Điều 4. Các sở chịu trách nhiệm thi hành./.", "CHỦ TỊCH |"], "CHỦ TỊCH"),
        (
            ["Điều 3. Hiệu lực.", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Văn Bình", "Nơi nhận:"],
            "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / Trần Văn Bình",
        ),
        (
            ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lê Thị C |"],
            "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH / Lê Thị C",
        ),
        (["CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", "Căn cứ Luật."], ""),
    ],
)
def test_signature_block_is_read_from_the_text(lines: list[str], block: str) -> None:
    assert signature_block(lines) == block


def test_signer_role_and_facts_from_another_text() -> None:
    lines = [
        "Điều 3. Quyết định này có hiệu lực kể từ ngày 01/01/2023.",
        "Điều 4. Giám đốc Sở Tài chính chịu trách nhiệm thi hành Quyết định này./.",
        "KT. CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        "Trần Văn Bình",
    ]
    found = find_sentences(lines, read_specs())
    assert found["signed"] == "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / Trần Văn Bình"
    assert found["effective"].startswith("Điều 3.")
    assert found["executors"].startswith("Điều 4. Giám đốc Sở Tài chính")


# --- a citizen's own errand: price, paperwork, whereabouts ------------------------------------

ERRAND_FRAMES = [
    "giá vé {}",
    "{} giá rẻ",
    "{} bao nhiêu tiền",
    "lãi suất {}",
    "lệ phí {} bao nhiêu",
    "{} cần giấy tờ gì",
    "thủ tục {} thế nào",
    "{} làm ở đâu",
    "{} nộp ở đâu",
    "khách sạn gần {}",
    "{} ở đâu",
]
ERRAND_TOPICS = [
    "máy bay đi Hà Nội",
    "xe buýt",
    "khám bệnh bảo hiểm y tế",
    "tour Lý Sơn",
    "biển Mỹ Khê",
    "vay ngân hàng mua nhà",
    "sân bay Chu Lai",
]


@pytest.mark.parametrize("frame", ERRAND_FRAMES)
@pytest.mark.parametrize("topic", ERRAND_TOPICS)
def test_a_citizens_errand_gets_no_confident_task(
    search_engine: Any, frame: str, topic: str
) -> None:
    for query in (frame.format(topic), fold(frame.format(topic))):
        outcome = search_engine.search(query)
        assert outcome.confidence not in (Confidence.EXACT, Confidence.CONFIDENT), (
            query,
            outcome.hits[:1],
        )
        assert not outcome.answer, query


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("mã địa chỉ gắn với bản đồ số", "1.2"),
        ("cải cách thủ tục hành chính", "6.3"),
        ("du lịch nông nghiệp gắn với trải nghiệm", "2.6"),
        ("tiết giảm chi phí logistics", "5.1"),
    ],
)
def test_the_decisions_own_phrases_are_no_errand(search_engine: Any, query: str, code: str) -> None:
    for typed in (query, fold(query)):
        outcome = search_engine.search(typed)
        assert outcome.found, typed
        assert code in [h.key for h in outcome.hits], (typed, outcome.hits)


def test_an_errand_is_told_it_is_outside_the_decision(bot: Any) -> None:
    text = bot.say("khám bệnh bảo hiểm y tế cần giấy tờ gì")
    assert "không có trong quyết định" in text
    assert "Anh/chị có thể hỏi" in text


# --- words typed with marks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code"), [("chợ", "8.4"), ("xây chợ", "8.4"), ("siêu thị, chợ", "8.4")]
)
def test_a_mark_sensitive_term_is_not_its_folded_twin(
    search_engine: Any, query: str, code: str
) -> None:
    outcome = search_engine.search(query)
    assert outcome.found, query
    assert outcome.hits[0].key == code


@pytest.mark.parametrize(
    ("query", "wrong"),
    [("chợ truyền thống", "1.2"), ("truyền thông", "6.2")],
)
def test_other_marks_in_a_title_rank_behind(search_engine: Any, query: str, wrong: str) -> None:
    outcome = search_engine.search(query)
    assert outcome.hits[0].key != wrong, (query, outcome.hits[:2])
    confident = outcome.confidence in (Confidence.EXACT, Confidence.CONFIDENT)
    assert not (confident and outcome.hits[0].key == wrong)
