#!/usr/bin/env python3
"""Caps a corpus at N files, keeping the ones that together cover the most edges.

    fuzz/cap_corpus.py <target> [max-files]      (default 200; run after `cargo fuzz cmin`)

libFuzzer's merge keeps every file that adds a feature, which for the structure-aware targets
is several hundred files. This runs one merge pass only to learn each file's edges (from the
merge control file), then greedily picks the file that adds the most uncovered edges until
max-files are picked or nothing more is added, and deletes the rest from fuzz/corpus/<target>.
"""

import pathlib
import subprocess
import sys
import tempfile

fuzz_dir = pathlib.Path(__file__).resolve().parent
target = sys.argv[1]
max_files = int(sys.argv[2]) if len(sys.argv) > 2 else 200
corpus = fuzz_dir / "corpus" / target
binary = fuzz_dir / "target" / "x86_64-unknown-linux-gnu" / "release" / target
if not binary.exists():
    sys.exit(f"{binary} missing: run `cargo +nightly fuzz build --sanitizer none --debug-assertions` first")

with tempfile.TemporaryDirectory() as scratch:
    control = pathlib.Path(scratch) / "control"
    output = pathlib.Path(scratch) / "merged"
    output.mkdir()
    subprocess.run(
        [binary, "-merge=1", "-use_counters=0", f"-merge_control_file={control}",
         "-max_len=65536", "-rss_limit_mb=2048", "-timeout=10", output, corpus],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lines = control.read_text().splitlines()

file_count = int(lines[0])
files = lines[2:2 + file_count]
edges = {}
for line in lines[2 + file_count:]:
    if line.startswith("COV "):
        index, *covered = line.split()[1:]
        edges[int(index)] = set(map(int, covered))

all_edges = set().union(*edges.values()) if edges else set()
covered, kept = set(), []
while len(kept) < max_files:
    best = max(edges, key=lambda i: len(edges[i] - covered), default=None)
    if best is None or not edges[best] - covered:
        break
    covered |= edges.pop(best)
    kept.append(best)

keep = {pathlib.Path(files[i]).name for i in kept}
removed = 0
for path in corpus.iterdir():
    if path.name not in keep:
        path.unlink()
        removed += 1
print(f"{target}: kept {len(keep)} files covering {len(covered)} of {len(all_edges)} edges; removed {removed}")
