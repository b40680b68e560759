"""README.md's examples are the ones tested: its C example is examples/quickstart.c (which
the C tests build and run), its Python examples run as written and print what the text
says."""

import os
import pathlib
import re
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def blocks(language):
    text = (REPO / "README.md").read_text()
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)


def run(code):
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=os.environ, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def numbers(text):
    return [float(n) for n in re.findall(r"-?\d+\.\d+|-?\d+\.", text)]


def test_readme_c_examples_are_examples_quickstart_c_and_training_step_c():
    quickstart, training_step = blocks("c")
    assert quickstart == (REPO / "examples/quickstart.c").read_text()
    assert training_step == (REPO / "examples/training_step.c").read_text()


def test_readme_python_examples():
    numpy_example, torch_example = blocks("python")
    # the C example's grid, worked by hand in examples/quickstart.expected
    expected = numbers((REPO / "examples/quickstart.expected").read_text())
    assert numbers(run(numpy_example)) == expected
    assert run(torch_example).strip() == "True"
