#!/usr/bin/env python3
"""Writes the trove classifier list publish-pypi's pre-flight checks against, from the
installed `trove-classifiers` package (pinned in tests/requirements.txt):

    target/test-venv/bin/python scripts/vendor-trove-classifiers.py

crates/publish-pypi/src/warehouse/classifiers.txt: one classifier a line.
crates/publish-pypi/src/warehouse/deprecated-classifiers.txt: a deprecated classifier,
then its replacements, separated by tabs.
The test `warehouse::the_vendored_classifiers_are_the_pinned_packages` fails when these
differ from the package: bump the pin, run this, commit both files.
"""
import pathlib
import sys
from importlib.metadata import version

from trove_classifiers import all_classifiers, deprecated_classifiers

target = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                      pathlib.Path(__file__).resolve().parent.parent
                      / "crates/publish-pypi/src/warehouse")
header = f"# trove-classifiers {version('trove-classifiers')}\n"
(target / "classifiers.txt").write_text(
    header + "".join(f"{c}\n" for c in sorted(all_classifiers)), encoding="utf-8")
(target / "deprecated-classifiers.txt").write_text(
    header + "".join("\t".join([old, *new]) + "\n"
                     for old, new in sorted(deprecated_classifiers.items())),
    encoding="utf-8")
