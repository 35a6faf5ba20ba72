"""Puts the shared library and every service on the virtual environment's path.

A .pth file instead of editable installs: nothing to build, and each service
directory stays importable exactly as its container image lays it out.
"""

import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
paths = [
    ROOT / "libs" / "service_kit",
    *sorted(p for p in (ROOT / "services").iterdir() if p.is_dir()),
    ROOT / "gateway" / "pages",
]
target = Path(sysconfig.get_paths()["purelib"]) / "marketplace.pth"
target.write_text("".join(f"{path}\n" for path in paths))
print(f"linked {len(paths)} packages into {target}")
