#!/usr/bin/python3
"""Writes docs/matrix-view.md from docs/matrix-view.md.in and the real output of
`tconv explain`, so the walkthrough shows what the command prints.

    scripts/matrix-view-doc.py [--tconv build/tconv]            rewrite the page
    scripts/matrix-view-doc.py [--tconv build/tconv] --check    fail if it is stale

@NAME@ in the template is replaced by a block of the command's output (see BLOCKS).
The check ignores the digits of the numeric check's differences: float32 rounding
depends on the BLAS kernels of the machine that runs it.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RUNS = {
    "ex1": ["--example", "1"],
    "ex2": ["--example", "2"],
    "one_d": ["--input-size", "8", "--kernel-size", "3", "--stride", "2", "--padding", "1"],
    "big": ["--transposed", "--in-channels", "64", "--out-channels", "32", "--input-size",
            "8x8", "--kernel-size", "4", "--stride", "2", "--padding", "1"],
}

# name: (run, first line starts with, stop before the line that starts with)
BLOCKS = {
    "EX1_HEAD": ("ex1", "====", "1. Output"),
    "EX1_SIZES": ("ex1", "1. Output", "2. The"),
    "EX1_MATRIX": ("ex1", "2. The", "Its transpose"),
    "EX1_TRANSPOSE": ("ex1", "Its transpose", "3. Mult"),
    "EX1_COST": ("ex1", "3. Mult", "4. The"),
    "EX1_CHECK": ("ex1", "6. Numeric", None),
    "EX2_HEAD": ("ex2", "====", "1. Output"),
    "EX2_SIZES": ("ex2", "1. Output", "2. The"),
    "EX2_MATRIX": ("ex2", "2. The", "Its transpose"),
    "EX2_COST": ("ex2", "3. Mult", "4. The"),
    "EX2_DIST": ("ex2", "4. The", "5. The"),
    "EX2_COLL": ("ex2", "5. The", "6. Numeric"),
    "ONE_D": ("one_d", "1. Output", "Its transpose"),
    "BIG_MATRIX": ("big", "2. The", "4. The"),
}


def block(text, start, stop):
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(start))
    j = len(lines) if stop is None else \
        next(k for k, line in enumerate(lines) if k > i and line.startswith(stop))
    while j > i and not lines[j - 1].strip():
        j -= 1
    return "\n".join(lines[i:j])


def render(tconv):
    out = {}
    for name, args in RUNS.items():
        run = subprocess.run([tconv, "explain", *args], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"tconv explain {' '.join(args)} exited {run.returncode}: {run.stderr}")
        out[name] = run.stdout
    page = open(os.path.join(ROOT, "docs", "matrix-view.md.in"), encoding="utf-8").read()
    for name, (run, start, stop) in BLOCKS.items():
        page = page.replace("@" + name + "@", block(out[run], start, stop))
    left = re.findall(r"@[A-Z0-9_]+@", page)
    if left:
        sys.exit(f"unknown blocks in the template: {left}")
    return page


CHECK_ROW = re.compile(r"^  (gemm|dense|sparse|scatter|gather|auto) +float(32|64) |"
                       r"^  All agree within rounding: largest difference ")


def masked(page):
    """The page with the numbers of the numeric check's rows blanked out."""
    return "\n".join(re.sub(r"[0-9][0-9.e+-]*", "#", line) if CHECK_ROW.match(line) else line
                     for line in page.splitlines())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tconv", default=os.path.join(ROOT, "build", "tconv"))
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    page = render(args.tconv)
    target = os.path.join(ROOT, "docs", "matrix-view.md")
    if args.check:
        current = open(target, encoding="utf-8").read()
        if masked(current) != masked(page):
            sys.exit("docs/matrix-view.md is stale: run scripts/matrix-view-doc.py")
        print("PASS: docs/matrix-view.md matches the output of tconv explain")
        return
    with open(target, "w", encoding="utf-8") as f:
        f.write(page)


if __name__ == "__main__":
    main()
