"""Deployment files checked without Docker: the Dockerfile, compose.yaml, the systemd unit,
.env.example, the locks and their floors, the health probe, `make image`, and the chart extra."""

from __future__ import annotations

import configparser
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("core", "data", "scheduler", "handlers", "bot")
RUN_LOCK = ROOT / "requirements" / "runtime.txt"
TEST_LOCK = ROOT / "requirements" / "test.txt"
TEST_TOOLS = {"pytest", "pytest-asyncio", "pytest-timeout", "pytest-xdist", "hypothesis", "ruff"}
CHART_MISSING = "biểu đồ chưa được cài"


# -- helpers --------------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    joined: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    out = []
    for line in joined:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def final_stage(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The instructions of the last FROM onwards (what the image is)."""
    last = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last:]


def lock_pins(path: Path) -> dict[str, str]:
    """name -> pinned version of a pip-compile lock."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        found = re.match(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", line)
        if found:
            pins[canonicalize_name(found[1])] = found[2]
    return pins


def pyproject() -> dict[str, Any]:
    """The parsed pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def variables_in_code() -> set[str]:
    """Every DAUMOI_* name the application's source mentions (literal, or DAUMOI_{platform}_X)."""
    from bot.platforms import ADAPTERS

    platforms = [name.upper() for name in ADAPTERS if name != "console"]
    names: set[str] = set()
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            names.update(re.findall(r"\bDAUMOI_[A-Z0-9_]*[A-Z0-9]\b(?!_)", text))
            for suffix in re.findall(r"DAUMOI_\{platform\.upper\(\)\}_([A-Z0-9_]+)", text):
                names.update(f"DAUMOI_{p}_{suffix}" for p in platforms)
    # Families in docstrings ("DAUMOI_REMINDER_*") and the placeholder DAUMOI_X are not variables.
    return {name for name in names if not name.endswith("_") and len(name) > len("DAUMOI_X")}


def env_example() -> dict[str, tuple[str, bool]]:
    """name -> (value, commented out) of every variable .env.example sets or shows."""
    found: dict[str, tuple[str, bool]] = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            assert match[2] not in found, f"{match[2]} is listed twice in .env.example"
            found[match[2]] = (match[3], bool(match[1]))
    return found


def _same_value(shown: str, default: str) -> bool:
    try:
        return float(shown) == float(default)
    except ValueError:
        return shown == default


# -- Dockerfile -----------------------------------------------------------------------------------


def test_dockerfile_is_slim_python_of_the_lock() -> None:
    steps = dockerfile()
    bases = [args.split()[0] for word, args in steps if word == "FROM"]
    assert bases and all(re.fullmatch(r"python:3\.\d+-slim(-\w+)?", b) for b in bases), bases
    lock_python = re.search(r"with Python (3\.\d+)", RUN_LOCK.read_text(encoding="utf-8"))
    assert lock_python is not None
    assert all(b.startswith(f"python:{lock_python[1]}-") for b in bases), (bases, lock_python[1])


def test_dockerfile_copies_only_files_that_exist_and_are_not_ignored() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    copies = [args for word, args in dockerfile() if word in ("COPY", "ADD")]
    assert copies
    checked = 0
    for args in copies:
        parts = args.split()
        if any(p.startswith("--from") for p in parts):
            continue
        sources = [p for p in parts if not p.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert source.split("/")[0] not in ignored, f"COPY {source}: excluded by .dockerignore"
            checked += 1
    assert checked >= 5


def test_dockerfile_installs_the_runtime_lock_only() -> None:
    runs = " ".join(args for word, args in dockerfile() if word == "RUN")
    assert "--require-hashes -r requirements/runtime.txt" in runs
    assert "requirements/test.txt" not in runs and "[test]" not in runs
    assert "--no-deps ." in runs


def test_image_runs_as_a_non_root_user_with_a_health_check() -> None:
    steps = final_stage(dockerfile())
    words = [word for word, _ in steps]
    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert words.index("USER") < words.index("CMD")
    (check,) = [args for word, args in steps if word == "HEALTHCHECK"]
    assert "CMD" in check and "/opt/daumoi/healthcheck.py" in check
    cmd = json.loads(next(args for word, args in steps if word == "CMD"))
    assert cmd == ["daumoi", "run"]
    env = " ".join(args for word, args in steps if word == "ENV")
    assert "DAUMOI_HEALTH_LISTEN=0.0.0.0:8079" in env
    exposed = " ".join(args for word, args in steps if word == "EXPOSE").split()
    assert "8079" in exposed


# -- compose.yaml ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_postgres_and_the_bot(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "bot"}
    db, bot = services["db"], services["bot"]
    assert str(db["image"]).startswith("postgres:")
    for mount in db["volumes"]:
        volume = str(mount).split(":")[0]
        assert volume in compose["volumes"], f"volume {volume} is not declared"
    assert bot["build"] == "." and (ROOT / "Dockerfile").exists()
    assert bot["env_file"] == ".env"
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert str(bot["environment"]["DAUMOI_DATABASE_URL"]).startswith("postgresql://")
    assert "@db:5432/" in bot["environment"]["DAUMOI_DATABASE_URL"]


def test_compose_services_have_health_checks(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check and check["test"], f"{name} has no health check"
    assert "pg_isready" in " ".join(compose["services"]["db"]["healthcheck"]["test"])
    assert "/opt/daumoi/healthcheck.py" in compose["services"]["bot"]["healthcheck"]["test"]


def test_compose_ports_are_local_and_variables_documented(compose: dict[str, Any]) -> None:
    for port in compose["services"]["bot"].get("ports", []):
        assert str(port).startswith("127.0.0.1:"), f"{port}: webhooks go through a local proxy"
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    assert used and used <= set(env_example()), used - set(env_example())


# -- systemd --------------------------------------------------------------------------------------


def test_systemd_unit() -> None:
    unit = configparser.ConfigParser(strict=True, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are CamelCase
    unit.read_string((ROOT / "deploy" / "daumoi.service").read_text(encoding="utf-8"))
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert service["User"] not in ("root", "0") and service["Group"] not in ("root", "0")
    assert service["EnvironmentFile"].startswith("/etc/")
    assert service["Restart"] == "on-failure"
    program, *args = service["ExecStart"].split()
    assert program.startswith("/") and program.endswith("/bin/daumoi") and args == ["run"]
    assert service["ReadWritePaths"] == service["WorkingDirectory"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


# -- .env.example ---------------------------------------------------------------------------------


def test_env_example_lists_every_declared_variable() -> None:
    from core.config import Config

    listed = {name for name in env_example() if name.startswith("DAUMOI_")}
    declared = set(Config.variables())
    missing, unknown = sorted(declared - listed), sorted(listed - declared)
    assert not missing, f"add to .env.example, with a comment: {missing}"
    assert not unknown, f".env.example lists variables core/config.py does not declare: {unknown}"


def test_every_variable_the_code_mentions_is_declared() -> None:
    from core.config import NOT_SETTINGS, Config

    undeclared = variables_in_code() - set(Config.variables()) - NOT_SETTINGS
    assert not undeclared, f"declare in core/config.py and list in .env.example: {undeclared}"


def test_env_example_shows_the_defaults_and_blank_secrets() -> None:
    from core.config import Config

    defaults = dict(Config.model_construct().shown())  # the declared defaults, not the environment
    secrets = {
        name
        for name, info in Config.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret")
    }
    for name, (value, commented) in env_example().items():
        if not name.startswith("DAUMOI_"):
            continue
        if commented:  # shows the default: uncommenting it unchanged changes nothing
            assert _same_value(value, defaults[name]), (name, value, defaults[name])
        else:  # set on purpose, blank: must mean the same as unset
            assert value == "" and defaults[name] in ("", "***"), (name, value)
    for field in secrets:
        assert env_example()[f"DAUMOI_{field.upper()}"] == ("", False), field


def test_env_example_others_are_for_compose() -> None:
    others = {name for name in env_example() if not name.startswith("DAUMOI_")}
    compose_text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert others and all(f"${{{name}" in compose_text for name in others), others
    assert all(env_example()[name] == ("", False) for name in others)  # passwords start blank


def test_variables_in_code_finds_literal_and_per_platform_names() -> None:
    read = variables_in_code()
    assert {"DAUMOI_DATABASE_URL", "DAUMOI_ZALO_WEBHOOK_URL"} <= read
    assert not any(name.endswith("_") for name in read) and "DAUMOI_X" not in read


# -- locks and floors -----------------------------------------------------------------------------


def test_locks_pin_every_declared_dependency_within_its_range() -> None:
    project = pyproject()["project"]
    runtime = [*project["dependencies"], *project["optional-dependencies"]["charts"]]
    test_only = project["optional-dependencies"]["test"]
    run_pins, test_pins = lock_pins(RUN_LOCK), lock_pins(TEST_LOCK)
    for pins, declared in ((run_pins, runtime), (test_pins, [*runtime, *test_only])):
        for text in declared:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{name} is not in the lock: run `make lock`"
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"{name}=={pins[name]} is outside {requirement.specifier}: run `make lock`"
            )
    assert all(test_pins.get(name) == version for name, version in run_pins.items())


def test_runtime_lock_is_lean_and_hashed() -> None:
    pins = lock_pins(RUN_LOCK)
    assert not TEST_TOOLS & set(pins), TEST_TOOLS & set(pins)
    assert "mypy" not in pins and "scipy" not in pins
    for path in (RUN_LOCK, TEST_LOCK):
        text = path.read_text(encoding="utf-8")
        assert "--hash=sha256:" in text
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1])
        for block in blocks:
            if "==" in block.split("\n")[0]:
                assert "--hash=sha256:" in block, block.split("\n")[0]
        assert "/opt/" not in text and "--find-links" not in text  # no machine paths


def test_holidays_floor_carries_2026s_days_off() -> None:
    import holidays

    from scheduler.calendar import WorkCalendar

    (spec,) = [d for d in pyproject()["project"]["dependencies"] if d.startswith("holidays")]
    floor = Version(str(next(iter(Requirement(spec).specifier)).version))
    assert floor >= Version("0.106"), "0.106 is the first release with 2026's new days off"
    assert Version(holidays.__version__) >= floor
    calendar = WorkCalendar()
    for day in (date(2026, 8, 31), date(2026, 9, 1), date(2026, 11, 24)):
        assert calendar.holiday_name(day) is not None, day
        assert not calendar.is_working_day(day), day


# -- health probe ---------------------------------------------------------------------------------


def _probe() -> Any:
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import healthcheck
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    return healthcheck


@pytest.fixture
def health_server() -> Iterator[tuple[int, list[int]]]:
    """A local server answering /healthz with the status at the head of the list."""
    statuses = [200]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(statuses[0] if self.path == "/healthz" else 404)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], statuses
    finally:
        server.shutdown()
        server.server_close()


def test_health_probe_address() -> None:
    probe = _probe()
    assert probe.address({"DAUMOI_HEALTH_LISTEN": "0.0.0.0:8079"}) == "127.0.0.1:8079"
    assert probe.address({"DAUMOI_HEALTH_LISTEN": ":8079"}) == "127.0.0.1:8079"
    assert probe.address({"DAUMOI_HEALTH_LISTEN": "10.0.0.5:9000"}) == "10.0.0.5:9000"
    assert probe.address({"DAUMOI_HEALTH_LISTEN": "[::]:8079"}) == "127.0.0.1:8079"
    assert probe.address({"DAUMOI_WEBHOOK_URL": "https://x/y"}) == "127.0.0.1:8080"
    assert probe.address({}) is None


def test_health_probe_exit_status(
    health_server: tuple[int, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    probe = _probe()
    port, statuses = health_server
    assert probe.main({"DAUMOI_HEALTH_LISTEN": f"0.0.0.0:{port}"}) == 0
    statuses[0] = 503
    assert probe.main({"DAUMOI_HEALTH_LISTEN": f"127.0.0.1:{port}"}) == 1
    assert "503" in capsys.readouterr().err
    assert probe.main({}) == 1


# -- make image -----------------------------------------------------------------------------------


def _make_image(path: str) -> subprocess.CompletedProcess[str]:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    return subprocess.run(
        [make, "-s", "image"],
        cwd=ROOT,
        env={"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_image_says_one_line_without_docker(tmp_path: Path) -> None:
    done = _make_image(str(tmp_path))  # PATH is an empty folder: no docker
    assert done.returncode != 0
    assert done.stdout.strip().count("\n") == 0 and "chưa cài Docker" in done.stdout


def test_make_image_says_one_line_when_the_engine_is_down(tmp_path: Path) -> None:
    fake = tmp_path / "docker"
    fake.write_text('#!/bin/sh\n[ "$1" = info ] && exit 1\necho built "$@"\n')
    fake.chmod(0o755)
    done = _make_image(f"{tmp_path}:/usr/bin:/bin")
    assert done.returncode != 0
    assert done.stdout.strip().count("\n") == 0 and "Docker chưa chạy" in done.stdout
    fake.write_text('#!/bin/sh\necho built "$@"\n')
    done = _make_image(f"{tmp_path}:/usr/bin:/bin")
    assert done.returncode == 0 and "built build -t daumoi:latest ." in done.stdout


# -- the chart is an extra ------------------------------------------------------------------------


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `import matplotlib` fail as on an install without the charts extra."""
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith(("matplotlib.", "mpl_toolkits")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "data.reports.chart", raising=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def test_core_does_not_need_matplotlib() -> None:
    project = pyproject()["project"]
    assert not any(d.startswith("matplotlib") for d in project["dependencies"])
    assert any(d.startswith("matplotlib") for d in project["optional-dependencies"]["charts"])


@pytest.mark.usefixtures("no_matplotlib")
def test_chart_format_says_it_is_not_installed() -> None:
    from data.reports.formats import FORMATS

    line = FORMATS["png"].unavailable()
    assert line is not None and CHART_MISSING in line and "\n" not in line
    assert "daumoi[charts]" in line
    assert all(FORMATS[name].unavailable() is None for name in ("xlsx", "docx", "json"))


@pytest.mark.usefixtures("no_matplotlib")
def test_baocao_chart_without_matplotlib_and_everything_else_works(desk: Desk) -> None:
    from tests.report_support import seed_reports

    with desk.database.unit_of_work() as session:
        seed_reports(session)
    (reply,) = desk.send("/baocao bieudo").replies
    assert reply.file is None and CHART_MISSING in reply.text
    assert "Tổng số 44 nhiệm vụ" in desk.say("/baocao")
    for word, magic in (("xlsx", b"PK"), ("docx", b"PK")):
        (file_reply,) = desk.send(f"/baocao {word}").replies
        assert file_reply.file is not None and file_reply.file.content[:2] == magic
    assert "matplotlib" not in {k for k, v in sys.modules.items() if v is not None}


@pytest.mark.usefixtures("no_matplotlib")
def test_report_cli_png_without_matplotlib(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bot.cli import main

    for key in [k for k in os.environ if k.startswith("DAUMOI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DAUMOI_DATABASE_URL", f"sqlite:///{tmp_path / 'r.sqlite3'}")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--year", "2026", "--format", "png", "-o", "c.png"]) == 1
    err = capsys.readouterr().err
    assert CHART_MISSING in err and err.strip().count("\n") == 0
    assert not (tmp_path / "c.png").exists()
    assert main(["report", "--year", "2026", "--format", "json", "-o", "r.json"]) == 0
    assert len(json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))) == 44
