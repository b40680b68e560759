#!/usr/bin/python3
"""The pictures of `tconv explain` checked as a reader's browser would take them.

    explain_page.py <tconv binary>

1. `tconv explain --html page.html --svg matrix.svg` exits 0.
2. The page parses as XML (lxml) and as HTML5 without a single parse error (html5lib,
   strict); the SVG parses as XML with an <svg> root in the SVG namespace.
3. Neither loads anything from outside: no src/href other than a #fragment, no url() or
   @import in styles, no scheme:// anywhere in scripts, styles or attributes.
4. Headless Chromium opens page.html#selftest (every step of every view shown once):
   the page's own error record says "ok", the steppers drew their first step, and the
   browser logged no console message at all (the page logs none when it works).
5. A screenshot is taken and is not blank: many colours, the weight colours among them.
Without chromium the test fails: make test installs it, and a skipped check would pass
unseen.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import html5lib
from lxml import etree
from PIL import Image

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def check_offline(root, what):
    """No reference to anything outside the file."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            local = name.split("}")[-1].lower()
            if local in ("src", "href", "action", "data", "poster", "srcset") and \
                    not value.startswith("#"):
                fail(f"{what}: <{el.tag} {name}={value!r}> refers outside the page")
            if re.search(r"[a-z][a-z0-9+.-]*://", value, re.I) or "url(" in value:
                fail(f"{what}: <{el.tag} {name}={value!r}> holds a URL")
        local_tag = el.tag.split("}")[-1].lower()
        if local_tag in ("script", "style") and el.text:
            if "://" in el.text or "url(" in el.text or "@import" in el.text:
                fail(f"{what}: a <{local_tag}> refers to a URL")
            if local_tag == "script" and re.search(r"\b(fetch|XMLHttpRequest|import)\s*\(",
                                                   el.text):
                fail(f"{what}: the script loads something")
        if local_tag in ("link", "iframe", "img", "object", "embed", "image", "use"):
            fail(f"{what}: <{local_tag}> may load an external asset")


def chromium(binary, args, profile, timeout=90):
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=timeout)


def main():
    tconv = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tconv-explain-page-")
    try:
        page, svg = os.path.join(work, "page.html"), os.path.join(work, "matrix.svg")
        run = subprocess.run([tconv, "explain", "--html", page, "--svg", svg],
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            fail(f"tconv explain exited {run.returncode}: {run.stderr}")

        data = open(page, "rb").read()
        try:
            root = etree.fromstring(data)
        except etree.XMLSyntaxError as e:
            fail(f"page.html is not well-formed XML: {e}")
        parser = html5lib.HTMLParser(strict=True)
        try:
            parser.parse(data)
        except html5lib.html5parser.ParseError as e:
            fail(f"page.html has an HTML5 parse error: {e}")
        check_offline(root, "page.html")

        svg_root = etree.parse(svg).getroot()
        if svg_root.tag != "{http://www.w3.org/2000/svg}svg":
            fail(f"matrix.svg: root is {svg_root.tag}, not an SVG <svg>")
        check_offline(svg_root, "matrix.svg")
        if len(svg_root.findall(".//{http://www.w3.org/2000/svg}rect")) < 81 + 98:
            fail("matrix.svg does not draw the 81 + 98 non-zeros of the seed's matrices")
        print("page.html and matrix.svg parse and refer to nothing outside")

        browser = shutil.which("chromium")
        if not browser:
            fail("chromium is not installed (scripts/install-deps.sh test installs it)")
        url = "file://" + page + "#selftest"
        dom = chromium(browser, ["--enable-logging=stderr", "--v=0", "--dump-dom", url],
                       os.path.join(work, "profile-dom"))
        status = re.search(r'<body[^>]*data-status="([^"]*)"', dom.stdout)
        if not status or status.group(1) != "ok":
            fail("the page reports " + (status.group(1) if status else "no status") +
                 "\n" + dom.stderr[-2000:])
        console = [l for l in dom.stderr.splitlines() if ":CONSOLE" in l]
        if console:
            fail("the browser console said:\n" + "\n".join(console))
        for shown in ("step 1 of 9", "step 1 of 25", "step 1 of 18",
                      "y00 spreads to x00 (w00)", "x00 = a11*y0:00 + b11*y1:00"):
            if shown not in dom.stdout:
                fail(f"the rendered page lacks {shown!r}: a stepper did not start")
        print("chromium: data-status ok, no console message, every view stepped through")

        shot = os.path.join(work, "page.png")
        chromium(browser, ["--window-size=1200,1400", f"--screenshot={shot}", "file://" + page],
                 os.path.join(work, "profile-shot"))
        if not os.path.exists(shot):
            fail("chromium wrote no screenshot")
        image = Image.open(shot).convert("RGB")
        if image.size != (1200, 1400):
            fail(f"screenshot is {image.size}")
        colours = image.getcolors(maxcolors=1 << 20) or []
        saturated = sum(n for n, (r, g, b) in colours if max(r, g, b) - min(r, g, b) > 60)
        if len(colours) < 50 or saturated < 2000:
            fail(f"screenshot looks blank: {len(colours)} colours, {saturated} coloured pixels")
        print(f"screenshot: {len(colours)} colours, {saturated} coloured pixels")
        print("PASS: the explain page parses as XML and HTML5, loads nothing, renders in "
              "Chromium without a console message, and its screenshot is not blank")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
