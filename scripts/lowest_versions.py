"""Print pip constraints pinning runtime dependencies to the lowest versions their
pyproject.toml files allow (``>=X`` becomes ``==X``).

    python scripts/lowest_versions.py           # server and client together: the higher
                                                # floor where both name a package
    python scripts/lowest_versions.py --client  # the client distribution alone, with aio

Test tools are left to the resolver: users do not run them.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.version import Version

FLOOR = re.compile(r"^([A-Za-z0-9_.\-]+)\s*>=\s*([^,;\s]+)")
TOP = Path(__file__).resolve().parent.parent


def floors(pyproject: Path) -> dict[str, str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    extras = project.get("optional-dependencies", {})
    pins: dict[str, str] = {}
    for requirement in [*project.get("dependencies", []), *extras.get("aio", [])]:
        if match := FLOOR.match(requirement):
            pins[match.group(1).lower()] = match.group(2)
    return pins


def main() -> None:
    pins = floors(TOP / "client" / "pyproject.toml")
    if "--client" not in sys.argv:
        for name, floor in floors(TOP / "pyproject.toml").items():
            if name not in pins or Version(floor) > Version(pins[name]):
                pins[name] = floor
    sys.stdout.write("".join(f"{name}=={floor}\n" for name, floor in pins.items()))


if __name__ == "__main__":
    main()
