"""The Vietnamese words users read for the programme's codes, written once.

Keys are the stored string values (a StrEnum member looks up the same entry as its value).
"""

from __future__ import annotations

UNREPORTED = "unreported"  # a task with no status update yet

TASK_STATUS = {
    "not_started": "Chưa triển khai",
    "in_progress": "Đang thực hiện",
    "done": "Hoàn thành",
}
# The task status as reports count it: the three statuses and "no report yet".
REPORT_STATUS = {**TASK_STATUS, UNREPORTED: "Chưa báo cáo"}
# The split official reports use.
CLASSIFICATION = {
    "done_on_time": "Hoàn thành đúng hạn",
    "done_late": "Hoàn thành quá hạn",
    "on_time": "Đang thực hiện trong hạn",
    "overdue": "Quá hạn",
}
REPORT_CLASSIFICATION = {**CLASSIFICATION, UNREPORTED: "Chưa báo cáo (chưa đến hạn)"}
# How an agency is named on a task.
TASK_ROLE = {"lead": "chủ trì", "partner": "phối hợp"}
# What a person may do in the bot.
PERSON_ROLE = {
    "admin": "Quản trị",
    "focal": "Cán bộ đầu mối",
    "observer": "Quan sát (chỉ xem)",
}
AGENCY_KIND = {
    "department": "Sở, ngành cấp tỉnh",
    "board": "Ban quản lý",
    "office": "Văn phòng",
    "bank": "Ngân hàng",
    "insurance": "Bảo hiểm",
    "media": "Cơ quan báo chí, truyền thông",
    "local": "Chính quyền địa phương",
    "collective": "Nhóm đơn vị (ghi chung)",
    "enterprise": "Doanh nghiệp, tổ chức",
    "other": "Đơn vị khác",
}
