"""The README's configuration table and the settings cannot drift apart."""

from __future__ import annotations

import re

from tests.support.servers import PROJECT

# A variable radio/settings.py reads: env_str("NAME", ...), env_int(...), ...
SETTING_READ = re.compile(
    r'\benv_(?:str|bool|int|float|list|json_list)\(\s*"([A-Z][A-Z0-9_]*)"'
)
TABLE_ROW = re.compile(r"^\| (`[A-Z][A-Z0-9_]*`(?:, `[A-Z][A-Z0-9_]*`)*) \|", re.M)
# Where the variables of the scripts and the test run are read.
SCRIPTS = ["bin/*", "tests/conftest.py", "tests/browser/conftest.py"]


def settings_variables() -> set[str]:
    return set(SETTING_READ.findall((PROJECT / "radio/settings.py").read_text()))


def readme_variables() -> set[str]:
    configuration = (PROJECT / "README.md").read_text().split("## Configuration")[1]
    table = configuration.split("\n## ")[0]
    rows = TABLE_ROW.findall(table)
    return {name for row in rows for name in re.findall(r"`([A-Z0-9_]+)`", row)}


def test_every_setting_is_in_the_readme():
    """Each variable that radio/settings.py reads has a row in the table."""
    missing = settings_variables() - readme_variables()
    assert not missing, f"README.md's configuration table lacks {sorted(missing)}"


def test_every_variable_in_the_readme_is_read_somewhere():
    """Each variable in the table is read by the settings or by a script."""
    scripts = "".join(
        path.read_text()
        for pattern in SCRIPTS
        for path in PROJECT.glob(pattern)
        if path.is_file()
    )
    unread = {
        name
        for name in readme_variables() - settings_variables()
        if not re.search(rf"\b{name}\b", scripts)
    }
    assert not unread, f"README.md names variables nothing reads: {sorted(unread)}"
