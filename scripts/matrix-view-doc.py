#!/usr/bin/python3
"""Writes docs/matrix-view.md from docs/matrix-view.md.in and the real output of
`tconv explain`, so the walkthrough shows what the command prints, and the screenshots of
the page in docs/images/ (headless Chromium, driven by tests/page/drive.mjs).

    scripts/matrix-view-doc.py [--tconv build/tconv]            rewrite the page and images
    scripts/matrix-view-doc.py [--tconv build/tconv] --check    fail if the page is stale

@NAME@ in the template is replaced by a block of the command's output (see BLOCKS).
The check ignores the digits of the numeric check's differences: float32 rounding
depends on the BLAS kernels of the machine that runs it. It does not compare the
screenshots' pixels (fonts differ between machines), only that each is a PNG.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

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
    "EX1_ROUTE": ("ex1", "6. The GEMM", "7. Numeric"),
    "EX1_CHECK": ("ex1", "7. Numeric", None),
    "EX2_HEAD": ("ex2", "====", "1. Output"),
    "EX2_SIZES": ("ex2", "1. Output", "2. The"),
    "EX2_MATRIX": ("ex2", "2. The", "Its transpose"),
    "EX2_COST": ("ex2", "3. Mult", "4. The"),
    "EX2_DIST": ("ex2", "4. The", "5. The"),
    "EX2_COLL": ("ex2", "5. The", "6. The GEMM"),
    "EX2_ROUTE": ("ex2", "6. The GEMM", "7. Numeric"),
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


CHECK_ROW = re.compile(r"^  (gemm|phase|dense|sparse|scatter|gather|auto) +float(32|64) |"
                       r"^  All agree within rounding: largest difference ")


def masked(page):
    """The page with the numbers of the numeric check's rows (and their padding) blanked."""
    return "\n".join(re.sub(r"[0-9][0-9.e+-]* *", "# ", line) if CHECK_ROW.match(line)
                     else line for line in page.splitlines())


# The page's screenshots: the scenario tests/page/drive.mjs plays, and the files it writes.
SHOTS = [
    {"name": "the seed's second example", "size": [1200, 900], "set": [["preset", 1]],
     "expect": "redraw", "shot": {"file": "page-controls.png"}},
    {"name": "a column of the GEMM route", "click": "#m0r-c0-0-4",
     "shot": {"file": "page-route.png", "element": "#m0r"}},
]


def screenshots(tconv, images):
    """Renders the page's screenshots into `images` with headless Chromium."""
    drive = os.path.join(ROOT, "tests", "page")
    if not shutil.which("node") or not os.path.isdir(os.path.join(drive, "node_modules")):
        sys.exit("the screenshots need node and tests/page/node_modules "
                 "(scripts/install-deps.sh test)")
    work = tempfile.mkdtemp(prefix="tconv-doc-shots-")
    try:
        page = os.path.join(work, "page.html")
        run = subprocess.run([tconv, "explain", "--html", page], capture_output=True,
                             text=True)
        if run.returncode != 0:
            sys.exit(f"tconv explain --html exited {run.returncode}: {run.stderr}")
        scenario, result = os.path.join(work, "shots.json"), os.path.join(work, "seen.json")
        with open(scenario, "w") as f:
            json.dump(SHOTS, f)
        run = subprocess.run(["node", os.path.join(drive, "drive.mjs"), page, scenario, result,
                              work], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"drive.mjs exited {run.returncode}: {run.stderr[-2000:]}")
        seen = json.load(open(result))
        if seen["console"] or seen["errors"] or seen["status_at_end"] != "ok":
            sys.exit(f"the page went wrong: {seen['console']} {seen['errors']} "
                     f"{seen['status_at_end']}")
        os.makedirs(images, exist_ok=True)
        for step in SHOTS:
            shutil.copyfile(os.path.join(work, step["shot"]["file"]),
                            os.path.join(images, step["shot"]["file"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tconv", default=os.path.join(ROOT, "build", "tconv"))
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    page = render(args.tconv)
    target = os.path.join(ROOT, "docs", "matrix-view.md")
    images = os.path.join(ROOT, "docs", "images")
    if args.check:
        current = open(target, encoding="utf-8").read()
        if masked(current) != masked(page):
            sys.exit("docs/matrix-view.md is stale: run scripts/matrix-view-doc.py")
        for step in SHOTS:
            shot = os.path.join(images, step["shot"]["file"])
            if not os.path.exists(shot) or open(shot, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
                sys.exit(f"{shot} is missing or not a PNG: run scripts/matrix-view-doc.py")
        print("PASS: docs/matrix-view.md matches the output of tconv explain")
        return
    with open(target, "w", encoding="utf-8") as f:
        f.write(page)
    screenshots(args.tconv, images)


if __name__ == "__main__":
    main()
