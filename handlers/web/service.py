"""The web view's requests, platform-free: who is signed in, which page, what a form records.

The HTTP adapter (bot/platforms/web) calls these from a worker thread and sends back the Page;
each call is one unit of work. Roles are those of the chat, read from the database on every
request: strangers see nothing, observers read, focal points read and update their own
agency's tasks, admins everything.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from core import labels
from core.limits import limits_for
from core.model import Attachment, Reply
from core.settings import Settings
from data.reports import formats
from data.reports.files import report_bytes
from data.reports.task_reports import Scope
from data.reports.years import report_years
from data.store import people
from data.store import status as st
from data.store.catalog import Catalog
from data.store.db import Database
from data.store.models import Task
from data.store.web_state import signing_key, use_once
from handlers.context import Context
from handlers.permissions import NOT_REGISTERED, may_update
from handlers.reports import year_outside
from handlers.web import auth, pages
from handlers.web.render import render
from handlers.web.snapshot import SnapshotCache
from handlers.web.updates import history_items, submit

if TYPE_CHECKING:
    from data.search.engine import SearchEngine

BASE = "/web"
TELEGRAM = "telegram"


@dataclass
class Page:
    """What the HTTP layer answers: a status and HTML, a redirect, a file, a cookie to set."""

    status: int = 200
    html: str = ""
    redirect: str | None = None
    file: Attachment | None = None
    session: str | None = None  # a new session cookie; "" clears it
    notices: list[tuple[str, Reply]] = field(default_factory=list)  # (platform, group notice)


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as pages show them, with their actor and CSRF token."""

    actor: people.Actor
    session: auth.WebSession
    csrf: str
    name: str
    role_label: str


class WebService:
    """Every page and form of the web view."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        catalog: Callable[[], Catalog],
        search: Callable[[], SearchEngine],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.settings = settings
        self.catalog = catalog
        self.search = search
        self.now = now
        self.snapshots = SnapshotCache()

    # -- signing in ------------------------------------------------------------------------------

    def login_link(self, token: str) -> Page:
        """A /web login link: starts a session once, within 10 minutes."""
        now = self.now()
        with self.database.unit_of_work() as session:
            key = signing_key(session, now)
            link = auth.read_login(key, token, now.timestamp())
            if link is None:
                return self._refused("Đường dẫn đăng nhập không hợp lệ hoặc đã hết hạn.")
            expires = datetime.fromtimestamp(link.expires, UTC) + timedelta(minutes=1)
            if not use_once(session, f"l:{link.nonce}", expires, now):
                return self._refused("Đường dẫn đăng nhập này đã được dùng.")
            return self._start(session, key, link.who, now)

    def login_mini_app(self, init_data: str) -> Page:
        """A Telegram Mini App's initData: checked, fresh, used once; then a session."""
        now = self.now()
        checked = auth.verify_init_data(
            init_data, self.settings.config.telegram_token, now.timestamp()
        )
        if checked is None:
            return Page(
                403,
                "Dữ liệu đăng nhập từ Telegram không hợp lệ hoặc đã cũ. "
                "Anh/chị đóng rồi mở lại ứng dụng.",
            )
        with self.database.unit_of_work() as session:
            key = signing_key(session, now)
            expires = datetime.fromtimestamp(checked.auth_date + auth.INIT_DATA_SECONDS, UTC)
            if not use_once(session, f"t:{checked.hash[:80]}", expires, now):
                return Page(
                    403, "Dữ liệu đăng nhập này đã được dùng. Anh/chị đóng rồi mở lại ứng dụng."
                )
            who = auth.Identity(TELEGRAM, checked.user_id)
            if people.actor(session, self.settings, who.platform, who.user_id).role is None:
                return Page(403, NOT_REGISTERED)
            return self._start(session, key, who, now)

    def _start(self, session: Session, key: bytes, who: auth.Identity, now: datetime) -> Page:
        actor = people.actor(session, self.settings, who.platform, who.user_id)
        if actor.role is None:
            return self._refused(NOT_REGISTERED, status=403)
        token = auth.session_token(key, who, now.timestamp())
        return Page(303, redirect=f"{BASE}/", session=token)

    def logout(self, cookie: str, form: Mapping[str, str]) -> Page:
        """Forget the session (its CSRF token is required, so no other site signs one out)."""
        with self.database.unit_of_work() as session:
            viewer = self._viewer(session, cookie)
            if viewer is not None and not auth.csrf_ok(
                signing_key(session, self.now()), viewer.session, form.get("csrf", "")
            ):
                return self._refused("Yêu cầu không hợp lệ (thiếu mã bảo vệ).", status=403)
        page = self._message("Đã đăng xuất", "Anh/chị đã đăng xuất khỏi trang theo dõi.")
        page.session = ""
        return page

    def _viewer(self, session: Session, cookie: str) -> Viewer | None:
        if not cookie:
            return None
        now = self.now()
        key = signing_key(session, now)
        found = auth.read_session(key, cookie, now.timestamp())
        if found is None:
            return None
        actor = people.actor(session, self.settings, found.who.platform, found.who.user_id)
        role = actor.role
        if role is None:
            return None
        name = actor.person.display_name if actor.person is not None else "Quản trị"
        return Viewer(
            actor, found, auth.csrf_token(key, found), name, labels.PERSON_ROLE[role.value]
        )

    # -- pages -----------------------------------------------------------------------------------

    def warm(self) -> None:
        """Bring this year's snapshot up to date now (the server calls it in the background, so
        a full build after start, an import or midnight never falls on a visitor's request)."""
        with self.database.unit_of_work() as session:
            year = st.reporting_year(self.now(), self.settings.timezone)
            self.snapshots.get(session, self.catalog(), year, self.now(), self.settings.timezone)

    def page(self, cookie: str, name: str, params: Mapping[str, str], item: str = "") -> Page:
        """GET a page: "tongquan", "nhiemvu" (list or item), "donvi" (item), "taive"."""
        with self.database.unit_of_work() as session:
            viewer = self._viewer(session, cookie)
            if viewer is None:
                return self._sign_in()
            year = self._year(session, params)
            snapshot = self.snapshots.get(
                session, self.catalog(), year, self.now(), self.settings.timezone
            )
            common = {"base": BASE, "viewer": viewer}
            if name == "tongquan":
                return Page(
                    html=render(
                        "overview.html", title="Tổng quan", **common, **pages.overview(snapshot)
                    )
                )
            if name == "nhiemvu" and not item:
                filters = pages.Filters.from_params(params)
                data = pages.task_list(snapshot, filters, self.search())

                def page_url(number: int) -> str:
                    query = {k: v for k, v in params.items() if k != "trang"}
                    return f"{BASE}/nhiemvu?{urlencode({**query, 'trang': number})}"

                return Page(
                    html=render("tasks.html", title="Nhiệm vụ", page_url=page_url, **common, **data)
                )
            if name == "nhiemvu" and item.isdigit():
                return self._task(session, viewer, snapshot, int(item), params)
            if name == "donvi" and item.isdigit():
                catalog = snapshot.catalog
                if int(item) not in {a.id for a in catalog.agencies}:
                    return self._not_found(viewer)
                data = pages.agency_page(snapshot, catalog.agency(int(item)))
                return Page(html=render("agency.html", title=data["agency"].name, **common, **data))
            outside = self._outside(session, params) if name == "taive" else ""
            if name == "taive" and not item:
                this_year = st.reporting_year(self.now(), self.settings.timezone)
                return Page(
                    422 if outside else 200,
                    render(
                        "downloads.html",
                        title="Tải báo cáo",
                        year=year,
                        years=report_years(session, this_year),
                        outside=outside,
                        formats=list(formats.FORMATS.values()),
                        **common,
                    ),
                )
            if name == "taive" and item in formats.FORMATS and outside:
                return self._message("Không có báo cáo", outside, 404)
            if name == "taive" and item in formats.FORMATS:
                fmt = formats.FORMATS[item]
                scope = Scope(year, self.now(), self.settings.timezone)
                content, _ = report_bytes(session, scope, item)
                return Page(file=Attachment(fmt.filename(year), content, fmt.mime_type))
            return self._not_found(viewer)

    def _task(
        self,
        session: Session,
        viewer: Viewer,
        snapshot: Any,
        task_id: int,
        params: Mapping[str, str],
        form: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Page:
        entry = next((t for t in snapshot.catalog.tasks if t.id == task_id), None)
        if entry is None:
            return self._not_found(viewer)
        data = pages.task_page(snapshot, entry)
        task = session.get(Task, task_id)
        responsibility = may_update(viewer.actor, task) if task is not None else None
        if responsibility is not None and form is None:
            form = {
                "fields": {
                    "trangthai": "in_progress",
                    "tiendo": "",
                    "ketqua": "",
                    "vuongmac": "",
                    "dexuat": "",
                },
                "error": "",
            }
        if form is not None and responsibility is not None:
            form |= {
                "agency": responsibility.agency.name,
                "nonce": secrets.token_urlsafe(12),
                "statuses": list(labels.TASK_STATUS.items()),
            }
        else:
            form = None
        saved = params.get("daluu", "")
        history = history_items(session, task_id, self.settings.timezone)
        return Page(
            status,
            render(
                "task.html",
                title=f"Nhiệm vụ {entry.code}",
                base=BASE,
                viewer=viewer,
                form=form,
                history=history,
                saved=f"Đã ghi nhận cập nhật #{saved}." if saved.isdigit() else "",
                **data,
            ),
        )

    def update(self, cookie: str, task_id: int, form: Mapping[str, str]) -> Page:
        """POST the update form: the rules and validation of /capnhat, recorded the same way."""
        with self.database.unit_of_work() as session:
            viewer = self._viewer(session, cookie)
            if viewer is None:
                return self._sign_in()
            key = signing_key(session, self.now())
            if not auth.csrf_ok(key, viewer.session, form.get("csrf", "")):
                return self._refused("Yêu cầu không hợp lệ (thiếu mã bảo vệ).", status=403)
            context = Context(
                session=session,
                search=self.search(),
                settings=self.settings,
                capabilities=limits_for(viewer.actor.platform),
                now=self.now,
                catalog=self.catalog(),
            )
            outcome = submit(context, viewer.actor, viewer.name, task_id, form)
            if outcome.refused:
                return self._refused(outcome.refused, status=403)
            if outcome.error:
                year = st.reporting_year(self.now(), self.settings.timezone)
                snapshot = self.snapshots.get(
                    session, context.catalog, year, self.now(), self.settings.timezone
                )
                values = {
                    k: form.get(k, "")
                    for k in ("trangthai", "tiendo", "ketqua", "vuongmac", "dexuat")
                }
                return self._task(
                    session,
                    viewer,
                    snapshot,
                    task_id,
                    {},
                    {"fields": values, "error": outcome.error},
                    status=422,
                )
            notices = [(viewer.actor.platform, r) for r in outcome.notices]
            return Page(
                303, redirect=f"{BASE}/nhiemvu/{task_id}?daluu={outcome.update_id}", notices=notices
            )

    # -- helpers ---------------------------------------------------------------------------------

    def _year(self, session: Session, params: Mapping[str, str]) -> int:
        this_year = st.reporting_year(self.now(), self.settings.timezone)
        wanted = params.get("nam", "")
        if wanted.isdigit():
            years = report_years(session, this_year)
            if int(wanted) in years:
                return int(wanted)
        return this_year

    def _outside(self, session: Session, params: Mapping[str, str]) -> str:
        """What /baocao answers a year outside the programme's period ("" when none is asked)."""
        wanted = params.get("nam", "").strip()
        if not wanted:
            return ""
        this_year = st.reporting_year(self.now(), self.settings.timezone)
        years = report_years(session, this_year)
        if wanted.isdigit() and len(wanted) <= 4 and int(wanted) in years:
            return ""
        shown = int(wanted) if wanted.isdigit() and len(wanted) <= 4 else this_year
        return year_outside(shown, years, this_year)

    def _message(self, title: str, text: str, status: int = 200, **extra: Any) -> Page:
        values = {"base": BASE, "viewer": None, "more": [], "login_script": False} | extra
        return Page(status, render("message.html", title=title, text=text, **values))

    def _refused(self, text: str, status: int = 403) -> Page:
        return self._message("Không vào được", text, status)

    def _not_found(self, viewer: Viewer) -> Page:
        return self._message("Không tìm thấy", "Không có trang này.", 404)

    def _sign_in(self) -> Page:
        return self._message(
            "Đăng nhập",
            "Anh/chị mở trang này từ bot: trong Telegram bấm nút “Mở ứng dụng”; trong Zalo hoặc "
            "ở nơi khác gõ /web để nhận đường dẫn đăng nhập (dùng một lần, trong 10 phút).",
            401,
            login_script=True,
        )
