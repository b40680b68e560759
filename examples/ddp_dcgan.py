#!/usr/bin/python3
"""A small DCGAN-like generator whose layers are tconv's, trained data-parallel by torch:
DistributedDataParallel over the gloo backend, one process per replica.

tconv does not distribute anything itself. Each process computes its layers with tconv
(tconv.torch's modules are torch.nn's with another forward and backward); torch's engine
averages the gradients across processes and machines, as it does for its own layers.

  PYTHONPATH=python /usr/bin/python3 examples/ddp_dcgan.py           # 2 processes here
  torchrun --standalone --nproc_per_node=2 --redirects 1 --tee 1 \\
      examples/ddp_dcgan.py                                           # started by torchrun
  torchrun --nnodes=2 --node_rank=R --master_addr=HOST --master_port=29500 \\
      --nproc_per_node=2 --redirects 1 --tee 1 examples/ddp_dcgan.py  # on machine R of 2

(Debian 12's torchrun fails at start without --redirects 1 --tee 1: python/README.md.)

The generator maps a code to a 16x16 image (ConvTranspose2d 1x1 -> 4x4 -> 8x8 -> 16x16,
batch norm and ReLU between, a 3x3 Conv2d and tanh at the end) and learns to reproduce
the images a fixed random "teacher" makes of the same codes; each process draws its own
codes. --compare trains the same model built from torch.nn's layers as well, from the
same initial weights and the same codes, and prints both losses; --out DIR saves each
process's losses and final weights (DIR/rank<r>.pt) for tests to compare.
"""

import argparse
import datetime
import os
import socket
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

import tconv.torch as tt

NZ, NGF, SIZE = 16, 8, 16


def generator(nn):
    """The generator with the conv layers of `nn` (torch.nn or tconv.torch)."""
    def up(i, o, *args):
        return [nn.ConvTranspose2d(i, o, 4, *args, bias=False), torch.nn.BatchNorm2d(o),
                torch.nn.ReLU()]
    return torch.nn.Sequential(*up(NZ, 4 * NGF, 1, 0),         # 1x1 -> 4x4
                               *up(4 * NGF, 2 * NGF, 2, 1),    # -> 8x8
                               *up(2 * NGF, NGF, 2, 1),        # -> 16x16
                               nn.Conv2d(NGF, 1, 3, padding=1), torch.nn.Tanh())


def batch(rank, step, size, dtype):
    """Process `rank`'s codes at `step` and the teacher's images of them."""
    codes = torch.Generator().manual_seed(1_000_003 * rank + step)
    z = torch.randn(size, NZ, 1, 1, generator=codes, dtype=torch.float64)
    teacher = torch.randn(NZ, SIZE * SIZE, generator=torch.Generator().manual_seed(99),
                          dtype=torch.float64) / NZ ** 0.5
    images = torch.tanh(z.flatten(1) @ teacher).view(size, 1, SIZE, SIZE)
    return z.to(dtype), images.to(dtype)


def train(nn, dtype, steps, batch_size, rank, world):
    """Trains the generator of `nn` under DDP from the seed-0 initial weights; returns the
    losses of this process, the global (mean) losses, and the final state_dict."""
    torch.manual_seed(0)  # every process the same initial weights (DDP also broadcasts)
    initial = generator(torch.nn).to(dtype).state_dict()
    model = generator(nn).to(dtype)
    model.load_state_dict(initial)
    ddp = DistributedDataParallel(model)  # CPU: no device_ids
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    local, mean = [], []
    for step in range(steps):
        z, images = batch(rank, step, batch_size, dtype)
        loss = torch.nn.functional.mse_loss(ddp(z), images)
        opt.zero_grad()
        loss.backward()  # DDP all-reduces the gradients while autograd runs
        opt.step()
        total = loss.detach().clone()
        dist.all_reduce(total)
        local.append(loss.item())
        mean.append(total.item() / world)
    return local, mean, {k: v.clone() for k, v in model.state_dict().items()}


def worker(rank, world, init_method, opts):
    torch.set_num_threads(opts.threads)  # tconv's calls from this thread inherit it
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=opts.timeout))
    kinds = [("tconv", tt)] + ([("torch", torch.nn)] if opts.compare else [])
    runs = {}
    for dtype_name in opts.dtype.split(","):
        dtype = getattr(torch, dtype_name)
        for name, nn in kinds:
            local, mean, state = train(nn, dtype, opts.steps, opts.batch, rank, world)
            runs[name, dtype_name] = {"losses": local, "mean_losses": mean, "state": state}
        if rank == 0:
            print(f"{world} processes, {dtype_name}: mean loss per step "
                  + ("(tconv, torch.nn)" if opts.compare else "(tconv)"))
            for step in range(opts.steps):
                print(f"  {step:3d}  " + "  ".join(
                    f"{runs[name, dtype_name]['mean_losses'][step]:.8f}" for name, _ in kinds))
    if opts.out:
        torch.save({"rank": rank, "world": world, "runs": runs},
                   os.path.join(opts.out, f"rank{rank}.pt"))
    dist.barrier()
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=8, help="codes per process and step")
    parser.add_argument("--dtype", default="float32", help="float32, float64 or both "
                        "(comma-separated)")
    parser.add_argument("--compare", action="store_true",
                        help="train the torch.nn model too and print both losses")
    parser.add_argument("--out", help="directory for each process's results (rank<r>.pt)")
    parser.add_argument("--nproc", type=int, default=2,
                        help="processes to start here when not started by torchrun")
    parser.add_argument("--port", type=int, help="TCP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--threads", type=int, default=1, help="threads per process")
    parser.add_argument("--timeout", type=float, default=60,
                        help="seconds the processes wait for each other")
    opts = parser.parse_args()
    if "RANK" in os.environ:  # torchrun (or another launcher) started this process
        worker(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), "env://", opts)
        return 0
    # One machine: the processes talk over loopback (gloo picks its interface by the
    # host name otherwise, which a container may not route).
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    init_method = f"tcp://127.0.0.1:{opts.port or free_port()}"
    mp.spawn(worker, args=(opts.nproc, init_method, opts), nprocs=opts.nproc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
