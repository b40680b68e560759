#!/usr/bin/python3
"""The page of `tconv explain --html`, checked as a learner's browser takes it.

    explain_page.py <tconv binary> <dir of drive.mjs, with node_modules from npm ci>

1. `tconv explain --html page.html --svg matrix.svg` exits 0.
2. The page parses as XML (lxml) and as HTML5 without a single parse error (html5lib,
   strict); the SVG parses as XML with an <svg> root in the SVG namespace.
3. Neither loads anything from outside: no src/href other than a #fragment, no url() or
   @import in styles, no scheme:// anywhere in scripts, styles or attributes; the module is
   in the page (base64).
4. In headless Chromium (tests/page/drive.mjs), page.html#selftest driven as a learner
   drives it: stride, padding, kernel, dilation, then the seed's second example and its
   output_padding, changed one at a time; a geometry the library refuses, then mended; a
   column of the GEMM route clicked; output_size instead of output_padding; a grouped 1-D
   convolution and its route. After every change:
   - the matrix C and its transpose Cᵀ the page shows (every entry's hover title, read
     from the DOM) equal the ones `tconv explain` prints for the command line the page
     drew, and the ones computed here from the definition (entry (cy·|Sy| + o,
     cx·|Sx| + i) copies weight (cy, cx mod C_x/g, tap) where i = o·s - p + tap·d per axis);
   - that command line carries the change just made;
   - a refused geometry shows the library's own message, the same text `tconv explain`
     prints for it, and the last good picture stays (marked stale);
   - a clicked column o of the route marks its column of the buffer, the x elements
     o·s - p + tap·d it lands on (with the values W_gᵀ·y computed here from the stated
     data) or reads, and the rows of C (columns of Cᵀ) for o;
   - the page's status is "ok", and the browser logged no console message, no page error
     and no request besides the page itself.
5. The screenshots are not blank: many colours, the weight colours among them.
Without chromium, node or playwright-core the test fails: make test installs them, and a
skipped check would pass unseen.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import html5lib
from lxml import etree
from PIL import Image


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
            if local_tag == "script" and re.search(
                    r"\b(fetch|XMLHttpRequest|import|importScripts|instantiateStreaming|"
                    r"compileStreaming)\s*\(", el.text):
                fail(f"{what}: the script loads something")
        if local_tag in ("link", "iframe", "img", "object", "embed", "image", "use"):
            fail(f"{what}: <{local_tag}> may load an external asset")


# ---- geometry from the definition ------------------------------------------------------

def parse_args(args):
    """The geometry of a `tconv explain` command line as the page writes it."""
    tokens = args.split()
    geo = {"transposed": False}
    i = 0
    while i < len(tokens):
        flag = tokens[i][2:].replace("-", "_")
        if flag == "transposed":
            geo["transposed"] = True
            i += 1
            continue
        value = tokens[i + 1]
        geo[flag] = [int(v) for v in value.split("x")] if flag not in (
            "in_channels", "out_channels", "groups") else int(value)
        i += 2
    return geo


def sizes(geo):
    """(channels, sizes) of X and of Y, PyTorch's formulas."""
    inp, k, s, p, d = (geo[n] for n in ("input_size", "kernel_size", "stride", "padding",
                                         "dilation"))
    dims = len(inp)
    if not geo["transposed"]:
        y = [(inp[a] + 2 * p[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in range(dims)]
        return (geo["in_channels"], inp), (geo["out_channels"], y)
    smallest = [(inp[a] - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + 1 for a in range(dims)]
    if "output_size" in geo:
        x = geo["output_size"]
    else:
        x = [smallest[a] + geo.get("output_padding", [0] * dims)[a] for a in range(dims)]
    return (geo["out_channels"], x), (geo["in_channels"], inp)


def flat(pos, extent):
    index = 0
    for q, e in zip(pos, extent):
        index = index * e + q
    return index


def unflat(index, extent):
    pos = []
    for e in reversed(extent):
        pos.append(index % e)
        index //= e
    return pos[::-1]


def prod(values):
    out = 1
    for v in values:
        out *= v
    return out


def expected_matrix(geo):
    """{(row, col): weight index} of C."""
    (cx, xs), (cy, ys) = sizes(geo)
    k, s, p, d = (geo[n] for n in ("kernel_size", "stride", "padding", "dilation"))
    groups = geo["groups"]
    cxg, cyg, K = cx // groups, cy // groups, prod(k)
    nx, ny = prod(xs), prod(ys)
    entries = {}
    for c_y in range(cy):
        g = c_y // cyg
        for o in range(ny):
            opos = unflat(o, ys)
            for cxl in range(cxg):
                for tap in range(K):
                    t = unflat(tap, k)
                    i = [opos[a] * s[a] - p[a] + t[a] * d[a] for a in range(len(xs))]
                    if all(0 <= i[a] < xs[a] for a in range(len(xs))):
                        col = (g * cxg + cxl) * nx + flat(i, xs)
                        entries[(c_y * ny + o, col)] = (c_y * cxg + cxl) * K + tap
    return entries


# ---- names, decoded from their definition ----------------------------------------------

def decode_position(text, extent):
    """'12' (a digit per axis when every extent is at most 10) or '(1,12)'."""
    if text.startswith("("):
        pos = [int(v) for v in text[1:-1].split(",")]
    else:
        if len(text) != len(extent):
            fail(f"position {text!r} for extents {extent}")
        pos = [int(c) for c in text]
    if len(pos) != len(extent) or any(not 0 <= q < e for q, e in zip(pos, extent)):
        fail(f"position {text!r} outside {extent}")
    return flat(pos, extent)


def decode_cell(name, letter, channels, extent):
    """x00 / x1:00 / y(1,12) -> the flat index over channels and positions."""
    if not name.startswith(letter):
        fail(f"{name!r} is not a {letter} element")
    rest, channel = name[1:], 0
    if channels > 1:
        channel, rest = rest.split(":", 1)
        channel = int(channel)
    return channel * prod(extent) + decode_position(rest, extent)


def decode_weight(name, pairs, kernel):
    """w00 (one channel pair), a00 / b00 (up to 26 pairs), w27:00 -> the flat index."""
    if pairs == 1:
        pair, rest = 0, name[1:]
    elif pairs <= 26:
        pair, rest = ord(name[0]) - ord("a"), name[1:]
    else:
        head, rest = name[1:].split(":", 1)
        pair = int(head)
    return pair * prod(kernel) + decode_position(rest, kernel)


def decode_titles(titles, geo, transposed):
    """The DOM's 'row R, column C: W' titles of C (or Cᵀ) as {(row of C, col of C): w}."""
    (cx, xs), (cy, ys) = sizes(geo)
    pairs = cy * (cx // geo["groups"])
    entries = {}
    for t in titles:
        m = re.fullmatch(r"row (\S+), column (\S+): (\S+)", t)
        if not m:
            fail(f"matrix entry title {t!r}")
        r, c, w = m.groups()
        if transposed:
            r, c = c, r
        key = (decode_cell(r, "y", cy, ys), decode_cell(c, "x", cx, xs))
        entries[key] = decode_weight(w, pairs, geo["kernel_size"])
    return entries


def printed_matrix(text, geo):
    """The C `tconv explain` prints, as {(row, col): w}."""
    (cx, xs), (cy, ys) = sizes(geo)
    rows, cols = cy * prod(ys), cx * prod(xs)
    pairs = cy * (cx // geo["groups"])
    lines = text.splitlines()
    head = next(i for i, l in enumerate(lines)
                if l.startswith(f"2. The transformation matrix C ({rows} x {cols})"))
    i = head + 1
    while not (len(lines[i].split()) == cols and lines[i].split()[0].startswith("x")):
        i += 1
    entries = {}
    for r in range(rows):
        tok = lines[i + 1 + r].split()
        if len(tok) != cols + 1:
            fail(f"printed row {r}: {lines[i + 1 + r]!r}")
        for c, w in enumerate(tok[1:]):
            if w != ".":
                entries[(r, c)] = decode_weight(w, pairs, geo["kernel_size"])
    return entries


def explain(tconv, args):
    return subprocess.run([tconv, "explain", *args.split()], capture_output=True, text=True,
                          timeout=120)


# ---- the learner's scenario ------------------------------------------------------------

SCENARIO = [
    {"name": "the page as written", "shot": {"file": "page-top.png"}},
    {"name": "stride", "set": [["stride-0", 2]], "expect": "redraw", "has": "--stride 2x1"},
    {"name": "padding", "set": [["padding-1", 1]], "expect": "redraw", "has": "--padding 0x1"},
    {"name": "kernel", "set": [["kernel_size-0", 2]], "expect": "redraw",
     "has": "--kernel-size 2x3"},
    {"name": "dilation", "set": [["dilation-1", 2]], "expect": "redraw",
     "has": "--dilation 1x2"},
    {"name": "the seed's second example", "set": [["preset", 1]], "expect": "redraw",
     "has": "--transposed --in-channels 2 --out-channels 1"},
    {"name": "output_padding", "set": [["output_padding-0", 1]], "expect": "redraw",
     "has": "--output-padding 1x0"},
    {"name": "a refused geometry", "set": [["output_padding-1", 2]], "expect": "refuse",
     "refused": "--output-padding 1x2"},
    {"name": "mended", "set": [["output_padding-1", 1]], "expect": "redraw",
     "has": "--output-padding 1x1"},
    {"name": "a column of the route", "click": "#m0r-c0-0-4",
     "shot": {"file": "page-route.png", "selector": "#m0r"}},
    {"name": "output_size", "set": [["size_by", "output_size"], ["output_size-1", 5]],
     "expect": "redraw", "has": "--output-size 6x5"},
    {"name": "a grouped 1-D convolution",
     "set": [["layer", "conv"], ["dims", 1], ["in_channels", 4], ["out_channels", 2],
             ["groups", 2], ["input_size-0", 7], ["kernel_size-0", 3], ["stride-0", 2],
             ["padding-0", 1], ["dilation-0", 1]],
     "expect": "redraw", "has": "--in-channels 4 --out-channels 2 --groups 2 --input-size 7"},
    {"name": "a column of the conv route", "click": "#m0r-c1-0-1"},
]


def check_route(step, geo):
    """The marks of a clicked column o of group g against the definition."""
    m = re.search(r"#m0r-c(\d+)-0-(\d+)", step["click"])
    g, o = int(m.group(1)), int(m.group(2))
    seen = step["seen"]["route"]
    (cx, xs), (cy, ys) = sizes(geo)
    k, s, p, d = (geo[n] for n in ("kernel_size", "stride", "padding", "dilation"))
    groups, K = geo["groups"], prod(k)
    cxg, cyg, ny, nx = cx // groups, cy // groups, prod(ys), prod(xs)
    rows = cxg * K
    if sorted(seen["sel"]) != sorted(f"m0r-c{g}-{e}-{o}" for e in range(rows)):
        fail(f"{step['name']}: the marked buffer column is {seen['sel']}")
    if sorted(seen["bands"]) != sorted(f"m0rb-{(g * cyg + c) * ny + o}" for c in range(cyg)):
        fail(f"{step['name']}: the lit rows of C are {seen['bands']}")
    opos = unflat(o, ys)
    want = {}
    for e in range(rows):
        cxl, t = e // K, unflat(e % K, k)
        i = [opos[a] * s[a] - p[a] + t[a] * d[a] for a in range(len(xs))]
        if not all(0 <= i[a] < xs[a] for a in range(len(xs))):
            continue
        two = i if len(i) == 2 else [0, i[0]]
        cell = f"m0r-x{g * cxg + cxl}-{two[0]}-{two[1]}"
        if geo["transposed"]:  # the value W_gᵀ·y adds there, with the data the text states
            want[cell] = sum((1 + (((g * cyg + c) * cxg + cxl) * K + e % K) % 4) *
                             (1 + ((g * cyg + c) * ny + o) % 7) for c in range(cyg))
        else:  # the tap's name, the entry of the column it is copied into
            want[cell] = None
    marked = seen["hit"] if geo["transposed"] else [x for x in seen["src"] if "-x" in x]
    if sorted(marked) != sorted(want):
        fail(f"{step['name']}: column {o} lands on {sorted(marked)}, expected {sorted(want)}")
    labels = dict((i[:-1], v) for i, v in seen["marks"])
    for cell, value in want.items():
        if value is not None and labels.get(cell) != str(value):
            fail(f"{step['name']}: {cell} receives {labels.get(cell)}, expected {value}")


def main():
    tconv, drive_dir = sys.argv[1], sys.argv[2]
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
        if not re.search(rb'var TCONV_WASM = "AGFzbQ', data):  # "\0asm", base64
            fail("page.html does not carry the WebAssembly module")

        svg_root = etree.parse(svg).getroot()
        if svg_root.tag != "{http://www.w3.org/2000/svg}svg":
            fail(f"matrix.svg: root is {svg_root.tag}, not an SVG <svg>")
        check_offline(svg_root, "matrix.svg")
        if len(svg_root.findall(".//{http://www.w3.org/2000/svg}rect")) < 81 + 98:
            fail("matrix.svg does not draw the 81 + 98 non-zeros of the seed's matrices")
        print("page.html and matrix.svg parse and refer to nothing outside")

        node = shutil.which("node")
        if not node or not shutil.which("chromium"):
            fail("node or chromium is missing (scripts/install-deps.sh test installs them)")
        if not os.path.isdir(os.path.join(drive_dir, "node_modules", "playwright-core")):
            fail(f"playwright-core is not installed in {drive_dir} (npm ci there; "
                 "scripts/install-deps.sh test does it)")
        scenario, result = os.path.join(work, "scenario.json"), os.path.join(work, "seen.json")
        with open(scenario, "w") as f:
            json.dump(SCENARIO, f)
        drive = subprocess.run([node, os.path.join(drive_dir, "drive.mjs"), page, scenario,
                                result, work], capture_output=True, text=True, timeout=240)
        if drive.returncode != 0:
            fail(f"drive.mjs exited {drive.returncode}: {drive.stderr[-3000:]}")
        seen = json.load(open(result))
        if seen["status_at_start"] != "ok":
            fail(f"the page reports {seen['status_at_start']!r} once started")

        names = {c["name"] for c in seen["steps"][0]["controls"]}
        for wanted in ("layer", "dims", "in_channels", "out_channels", "groups", "input_size",
                       "kernel_size", "stride", "padding", "dilation", "output_padding",
                       "output_size"):
            if wanted not in names:
                fail(f"no control named {wanted!r}: {sorted(names)}")
        for c in seen["steps"][0]["controls"]:
            if not c["label"]:
                fail(f"control {c['id']} has no label")

        previous = None
        for step, got in zip(SCENARIO, seen["steps"]):
            step["seen"] = got
            name = step["name"]
            if got["status"] != "ok":
                fail(f"{name}: the page reports {got['status']!r}")
            if "refused" in step:
                if step["refused"] not in got["tried"]:
                    fail(f"{name}: the page tried {got['tried']!r}, not {step['refused']!r}")
                native = explain(tconv, got["tried"])
                said = native.stderr.strip().removeprefix("tconv explain: ")
                if native.returncode != 2 or got["message"] != said:
                    fail(f"{name}: the page says {got['message']!r}, tconv explain "
                         f"{said!r} (exit {native.returncode})")
                if not got["message_shown"] or not got["stale"]:
                    fail(f"{name}: the message is not shown, or the picture not marked stale")
                if got["args"] != previous["args"] or got["C"] != previous["C"]:
                    fail(f"{name}: the last good picture did not stay")
                print(f"{name}: the library's message, as tconv explain gives it: "
                      f"{got['message']!r}; the last picture stays")
                continue
            if got["message_shown"] or got["stale"]:
                fail(f"{name}: the page shows the message {got['message']!r}")
            if "has" in step and step["has"] not in got["args"]:
                fail(f"{name}: the page drew {got['args']!r}, which lacks {step['has']!r}")
            if step.get("expect") == "redraw" and got["renders"] <= previous["renders"]:
                fail(f"{name}: the page did not redraw")
            geo = parse_args(got["args"])
            want = expected_matrix(geo)
            native = explain(tconv, got["args"])
            if native.returncode != 0:
                fail(f"{name}: tconv explain {got['args']} exited {native.returncode}")
            printed = printed_matrix(native.stdout, geo)
            shown, shown_t = decode_titles(got["C"], geo, False), decode_titles(got["Ct"], geo,
                                                                                 True)
            if shown != printed or shown_t != printed:
                fail(f"{name}: the page's C or Cᵀ differs from tconv explain {got['args']}")
            if shown != want:
                fail(f"{name}: the page's C differs from the definition for {got['args']}")
            if "click" in step:
                check_route(step, geo)
            print(f"{name}: {got['args']}: C ({len(shown)} non-zeros) and Cᵀ as tconv explain "
                  f"prints them and as defined" + (f"; redrawn in {got['ms']} ms"
                                                   if step.get("expect") else "") +
                  ("; the route's column marks where it lands" if "click" in step else ""))
            previous = got

        if seen["console"] or seen["errors"] or seen["requests"]:
            fail(f"console {seen['console']}, errors {seen['errors']}, "
                 f"requests {seen['requests']}")
        if seen["status_at_end"] != "ok":
            fail(f"the page ends with status {seen['status_at_end']!r}")
        print("chromium: status ok throughout, no console message, no error, no request")

        for shot in ("page-top.png", "page-route.png"):
            image = Image.open(os.path.join(work, shot)).convert("RGB")
            if image.size != (1200, 1400):
                fail(f"{shot} is {image.size}")
            colours = image.getcolors(maxcolors=1 << 20) or []
            saturated = sum(n for n, (r, g, b) in colours if max(r, g, b) - min(r, g, b) > 60)
            if len(colours) < 50 or saturated < 2000:
                fail(f"{shot} looks blank: {len(colours)} colours, {saturated} coloured pixels")
            print(f"{shot}: {len(colours)} colours, {saturated} coloured pixels")
        print("PASS: the explain page parses as XML and HTML5, loads nothing, and recomputes "
              "every change with tconv.wasm as tconv explain computes it")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
