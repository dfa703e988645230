"""Gather ``benchmarks/results/*.md`` into ``benchmarks/RESULTS.md``.

Each comparison script in ``benchmarks/compare/`` writes one fragment, headed by
the exact command that produced it; this script only concatenates them in a
fixed order, adding nothing of its own.

    python benchmarks/compare/make_results.py
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["sparse_regression", "bcd", "ldp", "sbl", "rpca", "dag", "ot", "cluster"]

HEADER = """# Benchmark results

Side-by-side comparisons against the anchor libraries, measured on this project's
machines (2 cores, no GPU). Each section is written by the script named in its
command line (`benchmarks/compare/*.py`) and gathered by
`python benchmarks/compare/make_results.py`. Ratios are sparseopt time / anchor
time (below 1 means sparseopt is faster) unless a table says otherwise.
"""


def main():
    fragments = sorted((ROOT / "results").glob("*.md"),
                       key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else len(ORDER), p.stem))
    parts = [HEADER]
    for path in fragments:
        parts.append(path.read_text().strip() + "\n")
    if not fragments:
        parts.append("No comparison has been run yet.\n")
    (ROOT / "RESULTS.md").write_text("\n".join(parts))
    print(f"wrote {ROOT / 'RESULTS.md'} from {len(fragments)} fragments")


if __name__ == "__main__":
    main()
