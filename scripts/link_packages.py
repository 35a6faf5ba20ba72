"""Puts every shared library and every service on the virtual environment's path.

A .pth file instead of editable installs: nothing to build, and each directory
stays importable exactly as its container image lays it out. A library is a
folder of libs/ holding a package of its own name (libs/service_kit/service_kit/).
"""

import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
libraries = sorted(path for path in (ROOT / "libs").iterdir() if (path / path.name / "__init__.py").is_file())
services = sorted(path for path in (ROOT / "services").iterdir() if path.is_dir() and path.name != "__pycache__")
paths = [*libraries, *services, ROOT / "gateway" / "pages"]
target = Path(sysconfig.get_paths()["purelib"]) / "marketplace.pth"
target.write_text("".join(f"{path}\n" for path in paths))
print(f"linked {len(paths)} packages into {target}")
