"""A Python client generated from openapi/openapi.json, the way a partner would make one."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.conftest import ROOT

DOCUMENT = ROOT / "openapi" / "openapi.json"
PACKAGE = "tracker_client"
# The generator has no reader for NDJSON; the export is handed over as bytes, a line per event.
CONFIG = "content_type_overrides:\n  application/x-ndjson: application/octet-stream\n"


def generate(into: Path) -> tuple[ModuleType, str]:
    """Generate the client into a directory and import it; also the generator's output."""
    config = into / "generator.yaml"
    config.write_text(CONFIG)
    generator = Path(sys.executable).parent / "openapi-python-client"
    run = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(DOCUMENT),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(into / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    sys.path.insert(0, str(into))
    try:
        package = importlib.import_module(PACKAGE)
        # Every module, while the directory is on the path: all of the client must import.
        for module in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
            importlib.import_module(module.name)
    finally:
        sys.path.remove(str(into))
    return package, output
