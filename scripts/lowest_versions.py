"""Print pip constraints pinning every runtime dependency of the server and the client
(with its ``aio`` extra) to the lowest version their pyproject.toml allows: ``>=X``
becomes ``==X``. Test tools are left to the resolver: users do not run them."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

FLOOR = re.compile(r"^([A-Za-z0-9_.\-]+)\s*>=\s*([^,;\s]+)")
TOP = Path(__file__).resolve().parent.parent


def runtime_requirements(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    return [
        *project.get("dependencies", []),
        *project.get("optional-dependencies", {}).get("aio", []),
    ]


def main() -> None:
    for pyproject in (TOP / "client" / "pyproject.toml", TOP / "pyproject.toml"):
        for requirement in runtime_requirements(pyproject):
            if match := FLOOR.match(requirement):
                sys.stdout.write(f"{match.group(1)}=={match.group(2)}\n")


if __name__ == "__main__":
    main()
