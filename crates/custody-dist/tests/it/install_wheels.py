"""Installs every wheel named on the command line with the real installers, and prints
what each one put on disk, as JSON: the truth side of the differential wheel suite
(differential_wheel.rs).

usage: install_wheels.py WORK_DIR WHEEL...

For each wheel, `pip install --no-deps --no-index --target T` and
`uv pip install --no-deps --offline --target T` run into fresh directories. pip runs in
this process, one wheel after the other, through the function its `pip` command calls
(`pip._internal.cli.main.main`: the same code, without a second of start-up per wheel);
uv runs as a subprocess, beside it. The result is a list, one object per wheel in order:
    {"pip": RESULT, "uv": RESULT}
    RESULT = {"ok": true, "files": {path: "sha256=<urlsafe-b64>" | "link:<target>"}}
           | {"ok": false, "error": "<last lines of the installer's output>"}
Installer bookkeeping is left out: `__pycache__`, uv's `.lock` at the top, and
`*.dist-info/` RECORD, INSTALLER, REQUESTED, direct_url.json and uv_cache.json (the
installers write them; they are not the wheel's).
"""

import base64
import concurrent.futures
import contextlib
import hashlib
import io
import json
import logging
import os
import subprocess
import sys

from pip._internal.cli.main import main as pip_main

BOOKKEEPING = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json"}


def tree(root):
    files = {}
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for entry in dirs + names:
            path = os.path.join(directory, entry)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if os.path.islink(path):
                files[rel] = "link:" + os.readlink(path)
                continue
            if entry in dirs or (directory == root and entry == ".lock"):
                continue
            parent = os.path.basename(directory)
            if parent.endswith(".dist-info") and entry in BOOKKEEPING:
                continue
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).digest()
            files[rel] = "sha256=" + base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return files


def failure(output):
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return {"ok": False, "error": " | ".join(lines[-3:])}


def install_uv(work, index, wheel):
    python = sys.executable
    target = os.path.join(work, f"{index}-uv")
    env = dict(os.environ, UV_NO_CONFIG="1", UV_CACHE_DIR=os.path.join(work, f"{index}-uv-cache"))
    done = subprocess.run(
        [os.path.join(os.path.dirname(python), "uv"), "pip", "install", "--quiet",
         "--no-progress", "--no-deps", "--offline", "--no-index", "--link-mode", "copy",
         "--python", python, "--target", target, wheel],
        capture_output=True, text=True, env=env,
    )
    if done.returncode != 0:
        return failure(done.stderr + done.stdout)
    return {"ok": True, "files": tree(target)}


def install_pip(work, index, wheel):
    target = os.path.join(work, f"{index}-pip")
    output = io.StringIO()
    with contextlib.redirect_stderr(output), contextlib.redirect_stdout(output):
        status = pip_main(
            ["install", "--quiet", "--disable-pip-version-check", "--no-cache-dir",
             "--no-deps", "--no-index", "--no-compile", "--target", target, wheel]
        )
    logging.shutdown()
    if status != 0:
        return failure(output.getvalue())
    return {"ok": True, "files": tree(target)}


def main():
    work, wheels = sys.argv[1], sys.argv[2:]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        uv = [pool.submit(install_uv, work, index, wheel) for index, wheel in enumerate(wheels)]
        pip = [install_pip(work, index, wheel) for index, wheel in enumerate(wheels)]
        results = [{"pip": p, "uv": u.result()} for p, u in zip(pip, uv)]
    json.dump(results, sys.stdout)


main()
