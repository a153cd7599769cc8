"""docs/configuration.md lists every setting hcserver/settings.py reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _all_settings_table() -> str:
    text = (ROOT / "docs" / "configuration.md").read_text()
    return text.split("## All settings", 1)[1]


def test_every_settings_variable_is_in_the_all_settings_table():
    source = (ROOT / "hcserver" / "settings.py").read_text()
    names = set(re.findall(r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", source))
    table = _all_settings_table()
    missing = sorted(n for n in names if f"| `{n}` |" not in table)
    assert not missing, f"add to docs/configuration.md, All settings: {missing}"
