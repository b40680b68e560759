"""tconv.torch under torch.distributed. examples/ddp_dcgan.py trains its DCGAN-like
generator with DistributedDataParallel over gloo, 2 processes on 127.0.0.1, once built
from tconv.torch's modules and once from torch.nn's, from the same initial weights and
the same data, in float64 and in float32; each process saves its losses and final
weights, which are compared here.

- DDP's invariant: the parameters are the same in both processes at the end (every step
  applied the same all-reduced gradient), though each process saw other data.
- float64: tconv's run is torch.nn's. Rounding at 1e-16 stays far below 1e-10 over these
  steps (1e-15 seen), while any real difference (a gradient that missed the all-reduce, a
  wrong term) would be orders of magnitude above.
- float32: rounding differences of 1e-7 are amplified by training, so the reference is
  torch's own float32 error: the distance of torch.nn's float32 run from its float64 run.
  tconv's float32 run must be as close to that float64 run, within a factor 4 (0.24 to
  1.05 seen; plus a few units in the last place, for tensors float32 happens to hit
  exactly).

A second launch is torchrun's (the processes find each other through RANK, WORLD_SIZE,
MASTER_ADDR and MASTER_PORT), with tconv imported before torch: it must give the same
losses, bit for bit (the same arithmetic in the same order).
"""

import os
import pathlib
import signal
import socket
import subprocess
import sys

import pytest
import torch

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "ddp_dcgan.py"
STEPS, WORLD, TIMEOUT = 20, 2, 180
EPS32 = torch.finfo(torch.float32).eps


def wait(processes, timeout):
    """Waits for all; kills every one (and its children) if any runs past the timeout."""
    outputs = []
    try:
        for p in processes:
            outputs.append(p.communicate(timeout=timeout))
    except subprocess.TimeoutExpired:
        for p in processes:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
        pytest.fail(f"the distributed run did not finish within {timeout} s")
    for p, (out, err) in zip(processes, outputs):
        assert p.returncode == 0, f"{p.args}:\n{out}\n{err}"
    return [out for out, _ in outputs]


def start(args, env=None):
    return subprocess.Popen([sys.executable, *map(str, args)], env=env or os.environ,
                            cwd=REPO, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def load(out_dir):
    return [torch.load(out_dir / f"rank{rank}.pt") for rank in range(WORLD)]


@pytest.fixture(scope="module")
def spawned(tmp_path_factory):
    """The example's own launch: it spawns 2 processes on a free port."""
    out_dir = tmp_path_factory.mktemp("ddp")
    (printed,) = wait([start([EXAMPLE, "--compare", "--dtype", "float64,float32", "--steps",
                              STEPS, "--nproc", WORLD, "--out", out_dir])], TIMEOUT)
    assert "2 processes, float32: mean loss per step (tconv, torch.nn)" in printed
    return load(out_dir)


def norm(t):
    return t.double().norm().item()


def runs_of(results, rank):
    """{(impl, dtype): (losses, state)} of one process."""
    return {k: (torch.tensor(v["losses"], dtype=torch.float64), v["state"])
            for k, v in results[rank]["runs"].items()}


def compared(results, rank):
    """(name, tconv64, torch64, tconv32, torch32) for the losses and every tensor of the
    final state of one process."""
    runs = runs_of(results, rank)
    kinds = [("tconv", "float64"), ("torch", "float64"), ("tconv", "float32"),
             ("torch", "float32")]
    yield ("losses", *(runs[k][0] for k in kinds))
    for name in runs["torch", "float64"][1]:
        yield (name, *(runs[k][1][name] for k in kinds))


@pytest.mark.parametrize("impl", ["tconv", "torch"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_replicas_end_with_the_same_parameters(spawned, impl, dtype):
    states = [r["runs"][impl, dtype]["state"] for r in spawned]
    losses = [r["runs"][impl, dtype]["losses"] for r in spawned]
    assert len(losses[0]) == STEPS and losses[0] != losses[1]  # each process its own data
    assert losses[0][-1] < 0.8 * losses[0][0]  # and it learns
    for name in states[0]:
        if "running_" not in name:  # batch norm's statistics are each process's own
            assert torch.equal(states[0][name], states[1][name]), name


@pytest.mark.parametrize("rank", range(WORLD))
def test_float64_training_is_torch_nns(spawned, rank):
    for name, ours, ref, *_ in compared(spawned, rank):
        if ref.is_floating_point():
            assert norm(ours - ref) <= 1e-10 * norm(ref), name
        else:
            assert torch.equal(ours, ref), name  # num_batches_tracked


@pytest.mark.parametrize("rank", range(WORLD))
def test_float32_training_is_within_torchs_own_float32_error(spawned, rank):
    for name, _, exact, ours, ref in compared(spawned, rank):
        if not ref.is_floating_point():
            assert torch.equal(ours, ref), name
            continue
        exact = exact.double()
        torch_error = norm(ref.double() - exact)
        assert norm(ours.double() - exact) <= 4 * torch_error + 8 * EPS32 * norm(exact), (
            name, norm(ours.double() - exact), torch_error)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The workers torchrun starts: tconv imported before torch (the example imports torch first)
TCONV_FIRST = """
import runpy, sys
import tconv.torch
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_torchrun_with_tconv_imported_first_gives_the_same_losses(spawned, tmp_path):
    """Debian 12's torchrun (torch 1.13 on Python 3.11) fails at start with its default
    --redirects 0 --tee 0 (Python 3.11 no longer lists the flag enum's zero member), hence
    --redirects 1 --tee 1: each worker's stdout to a log file and to the console."""
    steps = 5
    torchrun = ["-m", "torch.distributed.run", "--nnodes", "1",
                "--nproc_per_node", WORLD, "--master_addr", "127.0.0.1", "--master_port",
                free_port(), "--redirects", "1", "--tee", "1", "--log_dir", tmp_path / "logs",
                "--no_python", sys.executable, "-c", TCONV_FIRST]
    (printed,) = wait([start([*torchrun, EXAMPLE, "--dtype", "float32", "--steps", steps,
                              "--out", tmp_path],
                             dict(os.environ, GLOO_SOCKET_IFNAME="lo"))], TIMEOUT)
    assert "2 processes, float32: mean loss per step (tconv)" in printed
    for rank, result in enumerate(load(tmp_path)):
        assert result["world"] == WORLD
        losses = result["runs"]["tconv", "float32"]["losses"]
        assert losses == spawned[rank]["runs"]["tconv", "float32"]["losses"][:steps]
