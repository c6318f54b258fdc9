"""Import a decision sent in chat: an admin sends the Word or PDF file (on Zalo a link) in a
private chat, the bot shows a preview, and "Áp dụng" applies it in one unit of work.

The preview is kept in the admin's flow row (the parsed decision as JSON, 30 minutes), so the
press works on any instance and after a restart; a press on an old preview changes nothing.
"""

from __future__ import annotations

import re

from core import metrics
from core.model import (
    ChatKind,
    Choice,
    FileRefused,
    FileTooBig,
    FileUnavailable,
    Incoming,
    IncomingFile,
    Notice,
    Reply,
)
from core.render import shorten, text_length
from data.importing.decision_model import DecisionFormatError, ParsedDecision
from data.importing.documents import parse_document
from data.importing.importer import import_parsed
from data.importing.limits import MAX_FILE_BYTES, size
from data.importing.preview import ImportPreview, from_json, preview_import, to_json
from data.store import people
from data.store.models import Flow
from handlers import flows
from handlers.context import Context
from handlers.permissions import ADMINS_ONLY

COMMAND = "nhapqd"
FLOW_KIND = COMMAND
APPLY = "apdung"
DISCARD = "boqua"
MAX_PREVIEW = 1000  # characters: one phone screen
_SHOWN = 3  # items of a list shown before "và N … khác"
# "Quyết định 1731/QĐ-UBND năm 2021 về ": the number is on the line already.
_TITLE_PREFIX = re.compile(r"^Quyết định\s+\S+\s+(?:năm\s+\d{4}\s+)?(?:về\s+)?", re.IGNORECASE)

USAGE = (
    "Để nhập một quyết định mới, anh/chị gửi tệp Word (.docx) hoặc PDF của quyết định vào chat "
    "riêng này; trên Zalo, gửi đường dẫn https tới tệp, hoặc dùng lệnh daumoi import trên máy "
    "chủ. Tôi sẽ gửi bản xem trước để anh/chị bấm Áp dụng hoặc Bỏ qua."
)
NOT_ADMIN = (
    "Cảm ơn anh/chị đã gửi tệp. Tôi chỉ nhận tệp quyết định để nhập dữ liệu từ quản trị viên. "
    "Nếu anh/chị muốn gửi kèm tệp khi cập nhật tiến độ, hãy ghi lệnh /capnhat vào phần chú thích "
    "của tệp."
)
STALE = (
    "Bản xem trước này không còn hiệu lực (đã áp dụng, đã bỏ qua hoặc đã quá 30 phút). "
    "Anh/chị gửi lại tệp nếu cần nhập."
)


def receive(ctx: Context, msg: Incoming) -> list[Reply]:
    """A document (or a link to one) without a command: an admin's decision to preview."""
    document = msg.document
    if document is None or msg.chat.kind is not ChatKind.PRIVATE:
        return []  # groups never hear about files they were not asked about
    if not people.actor(ctx.session, ctx.settings, msg.platform, msg.user.id).is_admin:
        return [Reply(NOT_ADMIN)]
    if document.size is not None and document.size > MAX_FILE_BYTES:
        return [Reply(_too_big(document.name, document.size))]
    # Downloading and reading the file (OCR of a scan takes a minute) must not keep this unit of
    # work's transaction open: on SQLite it would hold the one write lock and every other chat's
    # update would wait. What is written so far (the update's claim) is committed first.
    ctx.session.commit()
    try:
        content = _fetch(document)
        read = parse_document(content, document.name)
        preview = preview_import(ctx.session, read.parsed)
    except FileTooBig:
        return [Reply(_too_big(document.name, None))]
    except FileRefused:
        return [
            Reply(
                f"Tôi không tải tệp {document.name} từ địa chỉ trong mạng nội bộ. Anh/chị gửi "
                "đường dẫn công khai, hoặc nhờ quản trị máy chủ nhập bằng lệnh daumoi import."
            )
        ]
    except FileUnavailable:
        return [
            Reply(f"Tôi chưa tải được tệp {document.name}. Anh/chị vui lòng gửi lại sau ít phút.")
        ]
    except DecisionFormatError as exc:
        return [Reply(f"Không nhập được tệp {document.name}: {exc}")]
    key = flows.Key.of(msg)
    if preview.unchanged:
        return [Reply(_nothing_new(preview.decision_number, document.name))]
    data = {"parsed": to_json(read.parsed), "source": document.name}
    flow = flows.start(ctx.session, key, kind=FLOW_KIND, step="preview", data=data, now=ctx.now())
    choices = (
        Choice("Áp dụng", flows.answer_action(flow, COMMAND, APPLY)),
        Choice("Bỏ qua", flows.answer_action(flow, COMMAND, DISCARD)),
    )
    return [Reply(preview_text(document.name, read.parsed, preview, ctx), choices)]


def takes(ctx: Context, msg: Incoming) -> bool:
    """Whether a private message carrying a document is for the import (not another flow's
    answer with a file attached: a caption typed while /capnhat waits stays with /capnhat)."""
    if msg.document is None or msg.chat.kind is not ChatKind.PRIVATE:
        return False
    if not msg.text.strip() or msg.file_ref is None:
        return True
    flow = flows.current(ctx.session, flows.Key.of(msg), ctx.now())
    return flow is None or flow.kind == FLOW_KIND


def command(ctx: Context, msg: Incoming) -> list[Reply]:
    """/nhapqd: how to import; "/nhapqd #<version> apdung|boqua" answers a preview."""
    if not people.actor(ctx.session, ctx.settings, msg.platform, msg.user.id).is_admin:
        return [Reply(ADMINS_ONLY)]
    answer = flows.parse_answer(msg.args)
    if answer is None:
        return [Reply(USAGE)]
    version, value = answer
    flow = flows.current(ctx.session, flows.Key.of(msg), ctx.now(), kind=FLOW_KIND)
    if flow is None or flow.version != version or value not in (APPLY, DISCARD):
        return [Reply(STALE, notice=Notice.ALERT)]
    source = str(flow.data.get("source") or "")
    parsed = from_json(flow.data["parsed"])
    flows.finish(ctx.session, flow, ctx.now())
    if value == DISCARD:
        return [Reply(f"Đã bỏ qua tệp {source}. Dữ liệu không thay đổi.")]
    return [Reply(_apply(ctx, parsed, source))]


def flow_text(ctx: Context, msg: Incoming, flow: Flow) -> list[Reply] | None:
    """Typed text never answers a preview (the buttons or numbers do): it is searched."""
    return None


def _fetch(document: IncomingFile) -> bytes:
    if document.fetch is None:
        raise FileUnavailable("nothing to fetch")
    return document.fetch(MAX_FILE_BYTES)


def _apply(ctx: Context, parsed: ParsedDecision, source: str) -> str:
    """Import in this unit of work; say what changed (or that nothing did)."""
    with metrics.counting_import():
        try:
            preview = preview_import(ctx.session, parsed)
        except DecisionFormatError as exc:
            return f"Không nhập được tệp {source}: {exc}"
        if preview.unchanged:
            return _nothing_new(parsed.decision_number, source)
        report = import_parsed(ctx.session, parsed, source)
    verb = "Đã cập nhật" if not report.created else "Đã nhập"
    lines = [
        f"{verb} Quyết định {report.decision_number} từ {source}: {report.sectors} lĩnh vực, "
        f"{report.tasks} nhiệm vụ, {report.agencies} đơn vị.",
    ]
    if report.removed_tasks:
        removed = _listed(report.removed_tasks, "nhiệm vụ")
        lines.append(f"Đã xóa nhiệm vụ không còn trong tệp: {removed}.")
    if report.created and preview.programmes:
        lines.append("Quyết định này là một chương trình mới, bên cạnh các quyết định đã có.")
    example = parsed.tasks()[0].code if parsed.tasks() else "1.1"
    number = parsed.decision_number
    lines.append(f"Tra cứu sau vài giây, ví dụ: /nhiemvu {example} {number} hoặc /tim <từ khóa>.")
    return "\n".join(lines)


def _nothing_new(number: str, source: str) -> str:
    return (
        f"Quyết định {number} đã có trong dữ liệu và tệp {source} không có gì thay đổi, "
        "nên không cần áp dụng."
    )


def _too_big(name: str, found: int | None) -> str:
    weight = f" ({size(found)})" if found is not None else ""
    return (
        f"Tệp {name} quá lớn{weight}; giới hạn là {size(MAX_FILE_BYTES)}. Anh/chị gửi văn bản "
        "quyết định (.docx hoặc .pdf) không kèm phụ lục ảnh, hoặc dùng lệnh daumoi import."
    )


def _listed(items: list[str], noun: str) -> str:
    shown = ", ".join(items[:_SHOWN])
    rest = len(items) - _SHOWN
    return shown + (f" và {rest} {noun} khác" if rest > 0 else "")


def preview_text(name: str, parsed: ParsedDecision, preview: ImportPreview, ctx: Context) -> str:
    """The preview: decision, sectors, tasks, new agencies, changes, warnings (one screen)."""
    issued = f" ngày {parsed.issued_on:%d/%m/%Y}" if parsed.issued_on else ""
    lines = [f"Xem trước tệp {shorten(name, 60)}:", f"Quyết định {parsed.decision_number}{issued}"]
    title = _TITLE_PREFIX.sub("", parsed.title)
    if title:
        lines[-1] += f": {shorten(title, 110, at_word=True)}"
    sectors = [f"{s.number}. {shorten(s.name, 32, at_word=True)}" for s in parsed.sectors]
    lines.append(f"Lĩnh vực ({len(sectors)}): " + _listed(sectors, "lĩnh vực"))
    lines.append(f"Số nhiệm vụ: {len(parsed.tasks())}")
    if preview.new_agencies:
        names = [shorten(agency, 40, at_word=True) for agency in preview.new_agencies]
        lines.append(f"Đơn vị mới ({len(names)}): " + _listed(names, "đơn vị"))
    lines.extend(_changes(preview, ctx))
    question = "Bấm Áp dụng để nhập vào dữ liệu, hoặc Bỏ qua (bản xem trước giữ 30 phút)."
    while text_length("\n".join([*lines, question])) > MAX_PREVIEW and len(lines) > 4:
        lines.pop()  # the longest lists of changes end the text: they go first
    warnings = list(parsed.warnings)
    if warnings:
        lines.append(f"Lưu ý ({len(warnings)}):")
        for shown, warning in enumerate(warnings):
            more = f"• … và {len(warnings) - shown} lưu ý khác"
            bullet = f"• {shorten(warning, 100, at_word=True)}"
            if text_length("\n".join([*lines, bullet, more, question])) > MAX_PREVIEW:
                lines.append(more)
                break
            lines.append(bullet)
    return "\n".join([*lines, question])


def _changes(preview: ImportPreview, ctx: Context) -> list[str]:
    if not preview.exists:
        others = [p.decision_number for p in ctx.catalog.programmes]
        beside = f", bên cạnh {', '.join(others[:3])}" if others else ""
        return [f"Đây là chương trình mới{beside}; dữ liệu đang có giữ nguyên."]
    lines = ["So với dữ liệu đang có:"]
    if preview.added:
        lines.append(f"• Thêm {len(preview.added)}: " + _listed(preview.added, "nhiệm vụ"))
    if preview.changed:
        changed = [f"{c.code} ({', '.join(c.what)})" for c in preview.changed]
        lines.append(f"• Sửa {len(changed)}: " + _listed(changed, "nhiệm vụ"))
    if preview.removed:
        lines.append(f"• Bỏ {len(preview.removed)}: " + _listed(preview.removed, "nhiệm vụ"))
    if preview.details:
        lines.append("• Thông tin chung của quyết định (tên, ngày, người ký hoặc hạn báo cáo)")
    if len(lines) == 1:
        lines.append("• Chỉ thêm đơn vị mới")
    return lines
