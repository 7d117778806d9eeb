"""The codemod as a CI gate: follow-ups survive the rewrite, no false alarms, pragmas, the profile chosen per file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codemods.results.cli import main

# One module per kind of manual follow-up: (profile, source, rule of the follow-up).
FOLLOW_UPS = {
    "handler-stored-in-a-dict": ("compat", (
        "from compat.legacy import JSONResultHandler\n\n"
        "store = {'json': JSONResultHandler()}\n"
        "uri = store['json'].write({'a': 1})\n"
    ), "direct-call"),
    "handler-returned-by-a-function": ("compat", (
        "from compat.legacy import JSONResultHandler\n\n"
        "def make():\n    return JSONResultHandler()\n\n"
        "uri = make().write(1)\n"
    ), "direct-call"),
    "handler-passed-on": ("compat", (
        "from compat.legacy import JSONResultHandler\n\n"
        "handler = JSONResultHandler()\n"
        "register(handler)\n"
    ), "direct-call"),
    "handler-on-some-paths": ("compat", (
        "from compat.legacy import JSONResultHandler\n\n"
        "if flag:\n    h = JSONResultHandler()\nelse:\n    h = other()\n"
        "uri = h.write(1)\n"
    ), "direct-call"),
    "handler-in-an-attribute": ("compat", (
        "from compat.legacy import JSONResultHandler\n\n"
        "class Store:\n    def __init__(self):\n        self.handler = JSONResultHandler()\n\n"
        "    def save(self, v):\n        return self.handler.write(v)\n"
    ), "direct-call"),
    "argument-without-equivalent": ("prefect", (
        "from prefect.engine.result_handlers import S3ResultHandler\n\n"
        "h = S3ResultHandler(bucket='b', aws_credentials_secret='AWS')\n"
    ), "constructor"),
    "argument-splat": ("compat", (
        "from compat.legacy import LocalResultHandler\n\nh = LocalResultHandler(**options)\n"
    ), "constructor"),
    "keyword-to-an-unknown-callee": ("compat", (
        "import compat\n\nmake_task(result_handler=handler)\n"
    ), "keyword"),
    "both-keywords": ("compat", (
        "from compat import Task\nfrom compat.legacy import JSONResultHandler\n\n"
        "t = Task(result=None, result_handler=JSONResultHandler())\n"
    ), "keyword"),
    "attribute-of-an-unknown-object": ("compat", (
        "import compat\n\nthing.result_handler = None\n"
    ), "attribute"),
    "own-subclass": ("compat", (
        "from compat.legacy import ResultHandler\n\nclass Mine(ResultHandler):\n    pass\n"
    ), "subclass"),
    "dynamic-access": ("compat", (
        "import compat\n\nsetattr(task, 'result_handler', None)\n"
    ), "dynamic"),
    "other-reference": ("compat", (
        "from compat.legacy import JSONResultHandler\n\nok = isinstance(h, JSONResultHandler)\n"
    ), "reference"),
    "re-export": ("compat", (
        "from compat.legacy import JSONResultHandler\n"
    ), "import"),
    "star-import": ("compat", (
        "from compat.legacy import *\n"
    ), "import"),
}


def _manual(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, list[dict[str, object]]]:
    code = main([*argv, "--report", "json"])
    sites = json.loads(capsys.readouterr().out)["sites"]
    return code, [site for site in sites if site["action"] == "manual"]


@pytest.mark.parametrize("kind", sorted(FOLLOW_UPS))
def test_a_follow_up_stays_visible_to_check_after_the_rewrite(
    kind: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile, source, rule = FOLLOW_UPS[kind]
    path = project / "module.py"
    path.write_text(source)
    code, first = _manual(capsys, ["--profile", profile, str(path)])
    assert code == 1 and rule in {site["rule"] for site in first}
    code, again = _manual(capsys, ["--check", "--profile", profile, str(path)])
    assert code == 1, f"--check passes after the rewrite of {kind}:\n{path.read_text()}"
    assert rule in {site["rule"] for site in again}


def test_deleting_the_marker_a_rewrite_left_passes_the_gate(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = project / "module.py"
    path.write_text(FOLLOW_UPS["handler-stored-in-a-dict"][1])
    assert main([str(path)]) == 1
    rewritten = path.read_text()
    assert "# results-codemod: follow-up[direct-call]: " in rewritten
    path.write_text("".join(line for line in rewritten.splitlines(True) if "results-codemod" not in line))
    assert main(["--check", str(path)]) == 0


def test_a_module_importing_neither_legacy_nor_engine_names_gets_no_follow_ups(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = (
        "import requests\n\n"
        "class Client:\n"
        "    def __init__(self, result_handler=None):\n"
        "        self.result_handler = result_handler\n\n"
        "    def get(self, url):\n"
        "        handler = self.result_handler or (lambda r: r)\n"
        "        return handler(requests.get(url))\n\n"
        "client = Client(result_handler=print)\n"
        "client.result_handler = None\n"
        "setattr(client, 'result_handler', print)\n"
    )
    (project / "client.py").write_text(client)
    code, manual = _manual(capsys, ["--check", str(project)])
    assert (code, manual) == (0, [])


def test_an_ignore_pragma_silences_the_follow_ups_of_its_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "module.py").write_text(
        "import compat\n\nmake_task(result_handler=handler)  # results-codemod: ignore\n"
    )
    assert main(["--check", str(project)]) == 0
    capsys.readouterr()
    main(["--check", "--report", "json", str(project)])
    document = json.loads(capsys.readouterr().out)
    (site,) = document["sites"]
    assert (site["line"], site["rule"], site["action"]) == (3, "keyword", "ignored")
    assert document["totals"]["follow_ups_ignored"] == 1 and document["totals"]["manual_follow_ups"] == 0


def test_an_ignore_pragma_naming_a_rule_silences_only_that_rule(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "module.py").write_text(
        "import compat\n\n"
        "make_task(result_handler=handler)  # results-codemod: ignore[keyword]\n"
        "setattr(t, 'result_handler', h)  # results-codemod: ignore[keyword]\n"
    )
    code, manual = _manual(capsys, ["--check", str(project)])
    assert code == 1
    assert [(site["line"], site["rule"]) for site in manual] == [(4, "dynamic")]


def test_a_pragma_inside_a_string_is_not_a_pragma(project: Path) -> None:
    (project / "module.py").write_text(
        "import compat\n\nmake_task(result_handler=handler, doc='# results-codemod: ignore')\n"
    )
    assert main(["--check", str(project)]) == 1


def test_an_ignored_unfollowed_handler_gets_no_marker(project: Path) -> None:
    path = project / "module.py"
    path.write_text(
        "from compat.legacy import JSONResultHandler\n\n"
        "store = {'json': JSONResultHandler()}  # results-codemod: ignore[direct-call]\n"
        "uri = store['json'].write({'a': 1})  # results-codemod: ignore\n"
    )
    assert main([str(path)]) == 0
    assert "follow-up" not in path.read_text()


PREFECT_FLOW = (
    "from prefect import task\n"
    "from prefect.engine.result_handlers import LocalResultHandler\n\n"
    "@task(result_handler=LocalResultHandler(dir='/tmp/out'))\n"
    "def extract():\n    return 1\n"
)
COMPAT_FLOW = (
    "from compat import task\n"
    "from compat.legacy import LocalResultHandler\n\n"
    "@task(result_handler=LocalResultHandler(dir='/tmp/out'))\n"
    "def extract():\n    return 1\n"
)


def test_the_default_profile_migrates_prefect_code_with_the_prefect_profile(project: Path) -> None:
    path = project / "flow.py"
    path.write_text(PREFECT_FLOW)
    assert main([str(path)]) == 0
    assert path.read_text() == (
        "from prefect import task\n"
        "from prefect.engine.results import LocalResult\n\n"
        "@task(result=LocalResult(dir='/tmp/out'))\n"
        "def extract():\n    return 1\n"
    )


def test_the_default_profile_migrates_compat_code_with_the_compat_profile(project: Path) -> None:
    path = project / "flow.py"
    path.write_text(COMPAT_FLOW)
    assert main([str(path)]) == 0
    assert "from compat.results import LocalResult\n" in path.read_text()


def test_a_module_importing_both_packages_is_listed_for_a_human(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "flow.py"
    path.write_text("import prefect\n" + COMPAT_FLOW)
    code, manual = _manual(capsys, [str(path)])
    assert code == 1
    assert path.read_text() == "import prefect\n" + COMPAT_FLOW
    (site,) = manual
    assert site["rule"] == "profile" and "--profile compat or --profile prefect" in site["reason"]


def test_a_projects_own_compat_module_does_not_make_a_prefect_module_ambiguous(project: Path) -> None:
    path = project / "flow.py"
    path.write_text("from compat import shout\n" + PREFECT_FLOW)
    assert main([str(path)]) == 0
    assert "from prefect.engine.results import LocalResult\n" in path.read_text()


@pytest.mark.slow
def test_the_module_entry_point_runs_in_a_project_with_its_own_compat_module(project: Path) -> None:
    import os
    import subprocess
    import sys

    (project / "compat.py").write_text("def shout(text):\n    return text.upper()\n")
    path = project / "flow.py"
    path.write_text("from compat import shout\n" + PREFECT_FLOW)
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "codemods.results", "."], cwd=project, capture_output=True,
                          text=True, timeout=120, env=environ)
    assert proc.returncode == 0, proc.stderr
    assert "from prefect.engine.results import LocalResult\n" in path.read_text()


def test_an_explicit_profile_that_does_not_fit_leaves_the_module_alone_and_says_which_does(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "flow.py"
    path.write_text(PREFECT_FLOW)
    assert main(["--profile", "compat", "--report", "json", str(path)]) == 0
    assert path.read_text() == PREFECT_FLOW
    (site,) = json.loads(capsys.readouterr().out)["sites"]
    assert (site["rule"], site["action"]) == ("profile", "skipped")
    assert "--profile prefect" in site["reason"]


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("prefix = 1 + \\\n    2; uri = store['json'].write(1)\n", id="after-a-backslash-continuation"),
        pytest.param("text = '''a\nb'''; uri = store['json'].write(1)\n", id="after-a-multi-line-string"),
        pytest.param("if True: uri = store['json'].write(1)\n", id="in-a-one-line-block"),
    ],
)
def test_a_marker_is_placed_where_a_comment_line_can_go(statement: str, project: Path) -> None:
    path = project / "module.py"
    path.write_text("from compat.legacy import JSONResultHandler\n\nstore = {'json': JSONResultHandler()}\n" + statement)
    assert main([str(path)]) == 1
    rewritten = path.read_text()
    assert rewritten.count("# results-codemod: follow-up[direct-call]") == 2
    compile(rewritten, str(path), "exec")
    assert main(["--check", str(path)]) == 1


def test_a_marker_already_above_the_statement_is_not_repeated(project: Path) -> None:
    path = project / "module.py"
    path.write_text(FOLLOW_UPS["handler-stored-in-a-dict"][1])
    main([str(path)])
    marker = next(line for line in path.read_text().splitlines() if line.startswith("# results-codemod"))
    legacy_again = (
        "from compat.legacy import JSONResultHandler\n\n"
        f"{marker}\nstore = {{'json': JSONResultHandler()}}\n"
        f"other = {{'json': JSONResultHandler()}}\n"
    )
    path.write_text(legacy_again)
    main([str(path)])
    assert path.read_text().count(marker) == 2  # kept above the first statement, added above the second


def test_check_fails_on_a_handler_given_to_prefects_own_result_whatever_else_the_file_imports(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "results.py").write_text(
        "from prefect.engine.result import Result\n\n"
        "def wrap(d, r):\n    return Result(value=d, result_handler=r.task.result_handler)\n"
    )
    code, manual = _manual(capsys, ["--check", str(project)])
    assert code == 1
    assert [(site["line"], site["rule"]) for site in manual] == [(4, "keyword")]
