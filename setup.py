"""The one build step pyproject.toml cannot express: ship the Prefect bridge's start-up hook.

``results_compat_prefect.pth`` must land in site-packages itself (Python runs each ``.pth`` line there at start-up),
for a wheel install and for ``pip install -e .`` alike. Everything else is configured in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "results_compat_prefect.pth"


class build_py_with_pth(build_py):
    """Copies the .pth file to the root of what becomes the wheel.

    A wheel is built from ``build_lib``; an editable wheel (PEP 660) is built from ``install_lib`` (setuptools
    points it at the unpacked editable wheel) and never looks at ``build_lib``.
    """

    def run(self) -> None:
        super().run()
        root = self.get_finalized_command("install").install_lib if self.editable_mode else self.build_lib
        self.copy_file(PTH, str(Path(root, PTH)), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        return outputs if self.editable_mode else [*outputs, str(Path(self.build_lib, PTH))]


setup(cmdclass={"build_py": build_py_with_pth})
