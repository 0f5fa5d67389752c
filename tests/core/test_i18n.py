"""Every message in code and templates has a Simplified Chinese translation."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_message_is_translated_to_chinese(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-o", str(pot),
         "--no-location", "-k", "_", "-k", "gettext", "-k", "ngettext:1,2", "-k", "N_",
         "--ignore-dirs=.venv build var node_modules .git", "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with (ROOT / "core/i18n/zh_CN/LC_MESSAGES/messages.po").open("rb") as fh:
        translated = {m.id for m in read_po(fh, locale="zh_CN") if m.id and m.string}
    assert len(wanted) > 30
    assert sorted(wanted - translated) == []
