"""The truth tools of the sdist differential suite (differential_sdist.rs), in one process.

Reads a JSON list of cases ({"id", "path", "zip", "unfiltered"}) on stdin and, for each,
extracts the sdist with the tools that define what an sdist holds:
  - tarfile-data: Python's tarfile as pip opens it (mode by file name ending), with
    filter='data' (what pip uses);
  - tarfile: the same without a filter ('fully_trusted'), for crafted cases ("unfiltered")
    and only when no member could land outside the destination;
  - gnu-tar: `tar -xf` (compression detected by GNU tar itself);
  - zipfile: Python's zipfile extractall (each member's CRC checked as it is read).
Prints {id: {tool: {"status": "ok"|"error"|"skipped", "error": str, "tree": {path: [...]}}}}
where a tree maps each relative path to ["file", size, sha256], ["dir"] or
["symlink", target].
"""

import hashlib
import json
import os
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile

BZ2 = (".tar.bz2", ".tbz")
XZ = (".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma")


def pip_mode(path):
    """pip._internal.utils.unpacking.untar_file's choice of mode."""
    lower = path.lower()
    if lower.endswith(".gz") or lower.endswith(".tgz"):
        return "r:gz"
    if lower.endswith(BZ2):
        return "r:bz2"
    if lower.endswith(XZ):
        return "r:xz"
    return "r"


def tree_of(root):
    tree = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(directory, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            rel = os.fsencode(rel).decode("utf-8", "backslashreplace")
            if os.path.islink(full):
                tree[rel] = ["symlink", os.fsencode(os.readlink(full)).decode("utf-8", "backslashreplace")]
            elif os.path.isdir(full):
                tree[rel] = ["dir"]
            elif not stat.S_ISREG(os.lstat(full).st_mode):
                tree[rel] = ["special"]
            else:
                with open(full, "rb") as f:
                    data = f.read()
                tree[rel] = ["file", len(data), hashlib.sha256(data).hexdigest()]
    return tree


def unsafe_unfiltered(archive):
    for member in archive.getmembers():
        for name in (member.name, member.linkname if member.issym() or member.islnk() else ""):
            if name.startswith("/") or ".." in name.split("/"):
                return True
    return False


def run(tool, path, root):
    dest = os.path.join(root, tool, "a", "b", "out")
    os.makedirs(dest)
    try:
        if tool == "gnu-tar":
            done = subprocess.run(
                ["tar", "-xf", path, "-C", dest, "--no-same-owner"],
                capture_output=True, text=True, timeout=60,
            )
            if done.returncode != 0:
                return {"status": "error", "error": done.stderr.strip()[-300:], "tree": tree_of(dest)}
        elif tool == "zipfile":
            with zipfile.ZipFile(path) as archive:
                archive.extractall(dest)
        else:
            with tarfile.open(path, pip_mode(path), encoding="utf-8") as archive:
                if tool == "tarfile" and unsafe_unfiltered(archive):
                    return {"status": "skipped", "error": "a member would land outside", "tree": {}}
                archive.extractall(dest, filter="data" if tool == "tarfile-data" else "fully_trusted")
    except Exception as e:  # every failure of the tool is a verdict
        return {"status": "error", "error": f"{type(e).__name__}: {e}"[:300], "tree": tree_of(dest)}
    return {"status": "ok", "error": "", "tree": tree_of(dest)}


def main():
    cases = json.load(sys.stdin)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for case in cases:
            root = os.path.join(scratch, case["id"])
            tools = ["zipfile"] if case["zip"] else ["tarfile-data", "tarfile", "gnu-tar"]
            if not case["unfiltered"] and "tarfile" in tools:
                tools.remove("tarfile")
            results[case["id"]] = {tool: run(tool, case["path"], root) for tool in tools}
    json.dump(results, sys.stdout)


main()
