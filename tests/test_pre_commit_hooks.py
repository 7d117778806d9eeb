"""The pre-commit hooks this repository exposes run the codemod as their entries say, also when pre-commit itself
installs them (``pre-commit try-repo``) in a project with a ``codemods`` package of its own."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HOOKS = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
LEGACY = "from compat.result_handlers import JSONResultHandler\n\nHANDLER = JSONResultHandler()\n"
MIGRATED = "from compat.results import JSONResult\n\nHANDLER = JSONResult()\n"


def run_hook(hook_id: str, file: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the hook's entry as pre-commit does: the entry's words (its script from this environment), then the
    staged file names, from the project's root."""
    script, *words = shlex.split(HOOKS[hook_id]["entry"])
    executable = Path(sys.executable).parent / script
    assert executable.exists(), f"{script} is not a script this distribution installs"
    return subprocess.run([str(executable), *words, str(file)], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_both_hooks_are_declared_for_python_files() -> None:
    assert set(HOOKS) == {"results-codemod-check", "results-codemod"}
    assert all(hook["language"] == "python" and hook["types"] == ["python"] for hook in HOOKS.values())


def test_the_check_hook_fails_on_legacy_code_and_changes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "flows.py"
    source.write_text(LEGACY)
    assert run_hook("results-codemod-check", source).returncode == 1
    assert source.read_text() == LEGACY


def test_the_check_hook_passes_on_migrated_code(tmp_path: Path) -> None:
    source = tmp_path / "flows.py"
    source.write_text("from compat.results import JSONResult\n\nRESULT = JSONResult()\n")
    assert run_hook("results-codemod-check", source).returncode == 0


def test_the_fix_hook_rewrites_the_file(tmp_path: Path) -> None:
    source = tmp_path / "flows.py"
    source.write_text(LEGACY)
    run_hook("results-codemod", source)
    assert source.read_text() == "from compat.results import JSONResult\n\nHANDLER = JSONResult()\n"



@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin directory of a fresh virtualenv with this distribution installed from its wheel, as pre-commit installs
    a hook's repository (not editable: an editable install's finder would hide what a project's own package does);
    the dependencies come from this environment's site-packages."""
    base = tmp_path_factory.mktemp("hook-env")
    source = base / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".cache", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".mypy_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(base), str(source)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = base.glob("results_compat-*.whl")
    environment = base / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(environment)], check=True, timeout=120)
    python = environment / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    str(wheel)], check=True, capture_output=True, timeout=600)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(site, "zz-dependencies.pth").write_text(ours + "\n")  # a plain path: our editable finder stays inactive
    return python.parent


@pytest.mark.slow
@pytest.mark.parametrize("hook_id", ["results-codemod-check", "results-codemod"])
def test_the_hooks_run_in_a_project_with_its_own_codemods_package(hook_id: str, installed: Path, tmp_path: Path) -> None:
    own = tmp_path / "codemods"
    own.mkdir()
    (own / "__init__.py").write_text("")  # `python -m codemods.results` run from here finds this package first
    source = tmp_path / "flows.py"
    source.write_text(LEGACY)
    done = subprocess.run([*shlex.split(HOOKS[hook_id]["entry"]), "flows.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PATH": f"{installed}{os.pathsep}{os.environ['PATH']}"})
    assert "No module named" not in done.stderr, done.stderr
    if hook_id == "results-codemod-check":
        assert done.returncode == 1 and "would rewrite flows.py" in done.stderr
    else:
        assert done.returncode == 0 and "from compat.results import JSONResult" in source.read_text()


# -- pre-commit itself, installing the hooks from this repository as a user's project does ------------------------


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One hook environment for the module's tests: pre-commit installs this repository into it once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git project with a ``codemods`` package of its own (even a ``codemods.results``), which ``python -m
    codemods.results`` run from its root would import instead of the codemod."""
    root = tmp_path / "project"
    (root / "codemods").mkdir(parents=True)
    (root / "codemods" / "__init__.py").write_text("")
    (root / "codemods" / "results.py").write_text("raise SystemExit('the project\\'s own codemods.results ran')\n")
    (root / "flows.py").write_text(LEGACY)
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=60)
    subprocess.run(["git", "-C", str(root), "add", "."], check=True, timeout=60)
    return root


def try_repo(project: Path, hook_id: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``pre-commit try-repo`` this repository's hook on the project's flows.py, as a user tries a hook."""
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook_id, "--files", "flows.py"],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )


@pytest.mark.slow
def test_pre_commit_try_repo_check_hook_fails_on_legacy_code_in_a_project_with_its_own_codemods(
    project: Path, pre_commit_home: Path
) -> None:
    proc = try_repo(project, "results-codemod-check", pre_commit_home)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "would rewrite flows.py" in proc.stdout and "the project's own codemods.results ran" not in proc.stdout
    assert (project / "flows.py").read_text() == LEGACY


@pytest.mark.slow
def test_pre_commit_try_repo_fix_hook_rewrites_legacy_code_in_a_project_with_its_own_codemods(
    project: Path, pre_commit_home: Path
) -> None:
    proc = try_repo(project, "results-codemod", pre_commit_home)
    assert "the project's own codemods.results ran" not in proc.stdout, proc.stdout
    assert (project / "flows.py").read_text() == MIGRATED, proc.stdout + proc.stderr
