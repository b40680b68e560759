"""The Python examples of README.md run as written, and print what the text says."""

import os
import pathlib
import re
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def python_blocks(markdown):
    return re.findall(r"^```python\n(.*?)^```", markdown.read_text(), re.M | re.S)


def run(code):
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=os.environ, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def numbers(text):
    return [float(n) for n in re.findall(r"-?\d+\.\d+|-?\d+\.", text)]


def test_readme_python_examples():
    numpy_example, torch_example = python_blocks(REPO / "README.md")
    # the C example's grid, worked by hand in examples/quickstart.expected
    expected = numbers((REPO / "examples/quickstart.expected").read_text())
    assert numbers(run(numpy_example)) == expected
    assert run(torch_example).strip() == "True"
