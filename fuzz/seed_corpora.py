#!/usr/bin/env python3
"""Writes the seed inputs of the byte-level targets from ../test_data: every case of
cases.json as a validate payload (also with mutation on), and every settings document.
Compact JSON, named by content hash like libFuzzer's own corpus files. Re-running is harmless."""

import hashlib
import json
import pathlib

fuzz_dir = pathlib.Path(__file__).resolve().parent
test_data = fuzz_dir.parent / "test_data"


def write(target, document):
    data = json.dumps(document, separators=(",", ":")).encode()
    directory = fuzz_dir / "corpus" / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


cases = json.loads((test_data / "cases.json").read_text())
for case in cases:
    request = json.loads((test_data / case["request"]).read_text())
    settings = case["settings"]
    write("validate_bytes", {"request": request, "settings": settings})
    write("validate_bytes", {"request": request, "settings": {**settings, "mutate": True}})
    write("settings_bytes", settings)
