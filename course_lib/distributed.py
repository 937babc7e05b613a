"""Data-parallel training with ``torch.distributed``: DDP, checked equal to one process on the combined batch.

What ``torch.nn.parallel.DistributedDataParallel`` (DDP) does, with W processes (the *world size*):

- replicas: every process holds a full copy of the model; DDP broadcasts rank 0's weights when it wraps it,
  so all W copies start equal (here every rank also builds it from the same seed);
- shards: each process takes its own slice of the data, ``per_process`` examples a step, so one step sees
  the effective batch  n = per_process * W  (``effective_batch``);
- the all-reduce: during ``loss.backward()`` DDP sums each gradient over the W processes and divides by W.
  Each process's gradient is the mean over its shard of n / W examples, so the mean of the W of them is
  the mean over all n: the gradient one process would get on the concatenated batch. Every replica gets the
  same averaged gradient, takes the same optimiser step, and the copies stay equal without sending weights;
- the learning rate: a step on n examples averages away more noise than one on n / W, and the linear
  scaling rule (Goyal et al., 2017) multiplies the learning rate by the same factor (``scaled_lr``).

``python -m course_lib.distributed`` proves the equality on the course's LeNet-5 in float64 on real digits:

    torchrun --standalone --nproc_per_node=2 -m course_lib.distributed --backend gloo     # CPU (gloo)
    torchrun --standalone --nproc_per_node=4 -m course_lib.distributed --backend nccl     # one GPU a process
    python -m course_lib.distributed --nproc 2                      # no torchrun: torch.multiprocessing spawns

Every rank compares its DDP gradient of every parameter, at every step, with the gradient of a copy of the
model trained in that one process on the whole combined batch, then the losses and the weights after the
steps. Rank 0 prints a table and, on its last line, the largest difference (``largest difference 4.4e-16``);
every rank exits 1 past 1e-6. ``--reduce sum`` sums the gradients without dividing by W (a mistake made on
purpose through a DDP communication hook) to show the check failing and explaining why.

torchrun starts the W processes and gives each its RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT;
``init_process_group`` reads them. The same script runs on several machines with ``torchrun --nnodes``.

The same arithmetic in one process, no launch needed (what a notebook cell can show in a fraction of a second):

    grads = replica_gradients(model, x, y, world_size=2)       # each replica's gradient on its shard
    compare_gradients(average_gradients(grads), batch_gradients(model, x, y), world_size=2)   # ~1e-17, or raises
    effective_batch(32, 8), scaled_lr(0.1, 32, 256), shard(x, rank, world_size)
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import socket
import sys
from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from . import data, models

TOLERANCE = 1e-6
BACKENDS = ("gloo", "nccl")
LAUNCH_HELP = ("launch it with torchrun, which starts the processes and gives each its RANK, LOCAL_RANK, WORLD_SIZE,\n"
               "MASTER_ADDR and MASTER_PORT:\n"
               "    torchrun --standalone --nproc_per_node=2 -m course_lib.distributed --backend gloo\n"
               "or let it start its own processes:  python -m course_lib.distributed --nproc 2")


class DDPMismatch(AssertionError):
    """The data-parallel result differs from the single-process result on the combined batch."""


# ------------------------------------------------------------------------------------------ the arithmetic of DDP


def _check_count(name: str, value, meaning: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1 ({meaning}), got {value!r}.")
    return int(value)


def effective_batch(per_process: int, world_size: int) -> int:
    """Examples one DDP step learns from: per_process * world_size (e.g. 32 a process on 8 GPUs: 256)."""
    per_process = _check_count("per_process", per_process, "the batch each process draws a step")
    return per_process * _check_count("world_size", world_size, "the number of processes")


def scaled_lr(base_lr: float, base_batch: int, batch: int) -> float:
    """The linear scaling rule: lr = base_lr * batch / base_batch (base_lr was tuned at base_batch).

    Going from one process to W at the same per-process batch multiplies the batch, and so the rate, by W:
    scaled_lr(0.1, 32, 256) = 0.8. A rule of thumb for SGD with warm-up, not a law: it fails at very large
    batches, and Adam-like optimisers usually scale more gently.
    """
    if not isinstance(base_lr, (int, float)) or isinstance(base_lr, bool) or not base_lr > 0:
        raise ValueError(f"base_lr must be a positive number (the learning rate tuned at base_batch), got {base_lr!r}.")
    base_batch = _check_count("base_batch", base_batch, "the batch size base_lr was tuned at")
    return base_lr * _check_count("batch", batch, "the new batch size") / base_batch


def shard(batch, rank: int, world_size: int):
    """Rank ``rank``'s contiguous slice of a combined batch of n rows: rows rank*n/W to (rank+1)*n/W - 1.

    The W shards partition the batch, all the same size n / W: equal shards are what make the mean of the
    W shard means the mean over all n (a DistributedSampler does the same over a whole data set, strided).
    """
    world_size = _check_count("world_size", world_size, "the number of processes")
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 0 <= rank < world_size:
        raise ValueError(f"rank must be a whole number from 0 to world_size - 1 = {world_size - 1}, got {rank!r}.")
    n = len(batch)
    if n % world_size:
        raise ValueError(f"a batch of {n} examples does not split into {world_size} equal shards: {n} / "
                         f"{world_size} = {n / world_size:g}. Use a combined batch that is a multiple of "
                         f"{world_size}, e.g. {n - n % world_size} or {n - n % world_size + world_size}.")
    size = n // world_size
    return batch[rank * size:(rank + 1) * size]


def average_gradients(per_rank: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """What DDP's all-reduce leaves on every rank: for each parameter, the sum of the W ranks' gradients / W."""
    if not per_rank:
        raise ValueError("average_gradients needs the gradients of at least one rank, got none.")
    names = list(per_rank[0])
    for rank, grads in enumerate(per_rank):
        if list(grads) != names:
            raise ValueError(f"rank {rank}'s gradients name {list(grads)}, rank 0's {names}: every replica must be "
                             "the same model.")
    return {name: sum(grads[name] for grads in per_rank) / len(per_rank) for name in names}


def largest_difference(ours: Mapping[str, torch.Tensor], reference: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """max |ours - reference| for each name the two share (they must share all, with the same shapes)."""
    if list(ours) != list(reference):
        raise ValueError(f"the two sets of tensors name different parameters: {list(ours)} and {list(reference)}.")
    for name in ours:
        if ours[name].shape != reference[name].shape:
            raise ValueError(f"{name}: shapes {tuple(ours[name].shape)} and {tuple(reference[name].shape)} differ.")
    return {name: (ours[name] - reference[name]).abs().max().item() for name in ours}


def compare_gradients(ddp_grads: Mapping[str, torch.Tensor], reference_grads: Mapping[str, torch.Tensor],
                      world_size: int, tol: float = TOLERANCE) -> float:
    """The largest |DDP gradient - single-process gradient on the combined batch| over every parameter.

    Raises DDPMismatch past ``tol``, saying what went wrong when the DDP gradients are W times the reference
    (summed over the ranks, not averaged) or 1/W of it (each shard's loss divided by W once too often).
    """
    largest = max(largest_difference(ddp_grads, reference_grads).values())
    if largest <= tol:
        return largest
    ours = torch.cat([g.reshape(-1) for g in ddp_grads.values()])
    theirs = torch.cat([g.reshape(-1) for g in reference_grads.values()])
    ratio = (ours @ theirs / (theirs @ theirs)).item()        # the best factor s in ours ~ s * theirs
    message = (f"the DDP gradients differ from the single-process gradient on the combined batch by {largest:.3g}, "
               f"more than {tol:g}; they are about {ratio:.4g} times it.")
    if abs(ratio - world_size) < 1e-3 * world_size:
        message += (f" That is the world size {world_size}: the ranks' gradients were summed but not divided by "
                    f"{world_size}. Each rank's gradient is the mean over its n/{world_size} examples, so their "
                    f"mean (sum / {world_size}) is the mean over all n; DDP's all-reduce averages.")
    elif abs(ratio * world_size - 1) < 1e-3:
        message += (f" That is 1/{world_size}: something divided by the world size {world_size} once too often "
                    f"(a loss divided by {world_size} on top of DDP's averaging?).")
    else:
        message += (" Check that every rank starts from the same weights, that the shards partition the combined "
                    "batch in order, and that the loss is the mean over each shard.")
    raise DDPMismatch(message)


def gradients(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A copy of every parameter's .grad, by name (after DDP's backward: the averaged gradient)."""
    return {name: p.grad.detach().clone() for name, p in model.named_parameters()}


def parameters(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A copy of every parameter, by name."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def batch_gradients(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """The gradient of the mean cross-entropy over the batch (x, y), by parameter name (one process, no DDP)."""
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return gradients(model)


def replica_gradients(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor,
                      world_size: int) -> list[dict[str, torch.Tensor]]:
    """What each of ``world_size`` replicas computes before the all-reduce: the gradient on its shard of (x, y).

    Computed here one after another in this process, so the arithmetic of DDP can be checked without processes:
    ``average_gradients(replica_gradients(model, x, y, W))`` equals ``batch_gradients(model, x, y)``.
    """
    return [batch_gradients(model, shard(x, rank, world_size), shard(y, rank, world_size))
            for rank in range(world_size)]


# ------------------------------------------------------------------------------------------ the processes


@dataclass
class Process:
    """This process's place in the group: rank (0..W-1 over all machines), local rank (on this machine), device."""
    rank: int
    local_rank: int
    world_size: int
    device: torch.device


def start(backend: str) -> Process:
    """Join the process group from torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, ...).

    gloo runs on CPUs; nccl on NVIDIA GPUs, one a process: cuda:LOCAL_RANK.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be 'gloo' (CPU) or 'nccl' (NVIDIA GPUs), got {backend!r}.")
    missing = [v for v in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} not set: this process was not started as one of a group; "
                           + LAUNCH_HELP)
    local_rank = int(os.environ["LOCAL_RANK"])
    device = torch.device("cpu")
    if backend == "nccl":
        if torch.cuda.device_count() <= local_rank:
            raise RuntimeError(f"backend 'nccl' needs a CUDA GPU for each process on a machine: local rank "
                               f"{local_rank}, but torch sees {torch.cuda.device_count()} GPU(s). On CPUs use gloo.")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, device_id=device if backend == "nccl" else None)
    return Process(dist.get_rank(), local_rank, dist.get_world_size(), device)


def replica(seed: int, device: torch.device) -> torch.nn.Module:
    """The course's LeNet-5 (61,706 weights) in float64, from the same seed on every rank: equal replicas."""
    torch.manual_seed(seed)
    return models.lenet5(backend="torch").double().to(device)


def digit_batches(steps: int, batch: int, seed: int, device: torch.device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``steps`` combined batches of ``batch`` real digits (x (batch, 1, 28, 28) float64, labels), drawn at random."""
    x, y = data.digit_images("fit", dtype=np.float64)
    order = np.random.default_rng(seed).permutation(len(y))[:steps * batch].reshape(steps, batch)
    return [(torch.from_numpy(x[i]).to(device), torch.from_numpy(y[i]).to(device)) for i in order]


def summing_hook(process_group, bucket):
    """A DDP communication hook that sums the ranks' gradients and forgets to divide by W (a deliberate mistake).

    A hook gets each bucket of gradients (a flat tensor) and returns a Future of the reduced bucket (DDP refuses
    any return annotation but ``torch.futures.Future[torch.Tensor]``, so there is none here).
    DDP's own all-reduce, like ``torch.distributed.algorithms.ddp_comm_hooks.default_hooks.allreduce_hook``,
    divides each bucket of gradients by the world size and all-reduces it with a sum: the mean.
    """
    work = dist.all_reduce(bucket.buffer(), group=process_group, async_op=True)
    return work.get_future().then(lambda future: future.value()[0])


@dataclass
class CheckResult:
    """What one run measured; the differences are the largest over every rank (an all-reduce with MAX)."""
    world_size: int
    per_process_batch: int
    steps: int
    lr: float
    gradient_differences: dict[str, float]       # parameter -> max |DDP - single| of its gradient, over the steps
    ddp_losses: list[float]                      # the mean loss on each combined batch, all-reduced over the ranks
    single_losses: list[float]                   # one process's loss on the same combined batch
    loss_differences: list[float]
    parameter_differences: dict[str, float]      # parameter -> max |DDP - single| after the steps
    shapes: dict[str, list[int]] = field(default_factory=dict)
    diagnosis: str = ""                          # compare_gradients' explanation when the first step disagrees

    @property
    def largest(self) -> float:
        return max([*self.gradient_differences.values(), *self.loss_differences,
                    *self.parameter_differences.values()])


def _max_over_ranks(values: list[float]) -> list[float]:
    """Each value, maximised over all ranks (one all-reduce of a small CPU tensor or on the GPU with nccl)."""
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t.tolist()


def _sgd_step(model: torch.nn.Module, optimizer, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One step on the batch (x, y): the mean cross-entropy, its gradient (left in .grad), the update. The loss."""
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()                      # under DDP the all-reduce happens here, bucket by bucket
    optimizer.step()                     # plain SGD leaves .grad as it was: the gradients can be compared after it
    return loss.detach()


def check(process: Process, steps: int = 5, per_process: int = 32, lr: float = 0.1, seed: int = 0,
          reduce: str = "mean") -> CheckResult:
    """Train a DDP replica and, in this same process, a single copy on the combined batches; compare as they go.

    Each step the DDP replica learns from this rank's shard of the combined batch, the copy from all of it; both
    take an SGD step of the same lr (the averaged gradient IS the combined batch's gradient: nothing to rescale).
    """
    if reduce not in ("mean", "sum"):
        raise ValueError(f"reduce must be 'mean' (what DDP does) or 'sum' (the mistake, on purpose), got {reduce!r}.")
    world, rank = process.world_size, process.rank
    model = replica(seed, process.device)
    single = copy.deepcopy(model)
    ddp = DistributedDataParallel(model, device_ids=[process.local_rank] if process.device.type == "cuda" else None)
    if reduce == "sum":
        ddp.register_comm_hook(None, summing_hook)
    ddp_opt, single_opt = torch.optim.SGD(ddp.parameters(), lr=lr), torch.optim.SGD(single.parameters(), lr=lr)
    grad_diff, ddp_losses, single_losses, diagnosis = dict.fromkeys(parameters(model), 0.0), [], [], ""
    for step, (x, y) in enumerate(digit_batches(steps, effective_batch(per_process, world), seed, process.device)):
        loss = _sgd_step(ddp, ddp_opt, shard(x, rank, world), shard(y, rank, world))
        single_losses.append(_sgd_step(single, single_opt, x, y).item())
        dist.all_reduce(loss)                                    # the combined batch's loss: the mean of equal shards
        ddp_losses.append(loss.item() / world)
        for name, d in largest_difference(gradients(model), gradients(single)).items():
            grad_diff[name] = max(grad_diff[name], d)
        if step == 0:
            diagnosis = _diagnose(gradients(model), gradients(single), world)
    names = list(grad_diff)
    worst = _max_over_ranks([*grad_diff.values(), *largest_difference(parameters(model), parameters(single)).values()])
    return CheckResult(world, per_process, steps, lr, dict(zip(names, worst[:len(names)])), ddp_losses, single_losses,
                       [abs(a - b) for a, b in zip(ddp_losses, single_losses)], dict(zip(names, worst[len(names):])),
                       {name: list(p.shape) for name, p in model.named_parameters()}, diagnosis)


def _diagnose(ddp_grads, reference_grads, world_size: int) -> str:
    """compare_gradients' message when the two disagree, else ''."""
    try:
        compare_gradients(ddp_grads, reference_grads, world_size)
    except DDPMismatch as error:
        return str(error)
    return ""


def report(result: CheckResult, process: Process, backend: str) -> str:
    """The table rank 0 prints, ending with 'largest difference 4.4e-16'."""
    w, b = result.world_size, result.per_process_batch
    lines = [f"DDP on {w} processes ({backend}, {process.device.type}, float64): LeNet-5, {result.steps} SGD steps "
             f"of lr {result.lr:g}",
             f"batch {b} a process x {w} processes = effective batch {effective_batch(b, w)} (the single process's)",
             "", f"{'parameter':<12}{'shape':<18}{'gradient: max |DDP - single|':>30}{'weights after':>16}"]
    for name, d in result.gradient_differences.items():
        shape = "(" + ", ".join(map(str, result.shapes[name])) + ")"
        lines.append(f"{name:<12}{shape:<18}{d:>30.1e}{result.parameter_differences[name]:>16.1e}")
    lines += ["", f"{'step':<6}{'DDP loss':>22}{'single-process loss':>22}{'|difference|':>14}"]
    for step, (a, s, d) in enumerate(zip(result.ddp_losses, result.single_losses, result.loss_differences), 1):
        lines.append(f"{step:<6}{a:>22.17f}{s:>22.17f}{d:>14.1e}")
    return "\n".join(lines + [f"largest difference {result.largest:.1e}"])


def run(backend: str, steps: int, per_process: int, lr: float, seed: int, reduce: str, json_path: str | None) -> int:
    """One process's whole life: join the group, check, rank 0 reports, leave the group. 0 if DDP matched."""
    process = start(backend)
    try:
        result = check(process, steps, per_process, lr, seed, reduce)
        failure = ""
        if result.largest > TOLERANCE:
            failure = result.diagnosis or (f"DDP and single-process training differ by {result.largest:.3g}, more "
                                           f"than {TOLERANCE:g}, though their first gradients agree.")
        if process.rank == 0:
            if json_path:
                with open(json_path, "w") as f:
                    json.dump({**asdict(result), "backend": backend, "largest": result.largest,
                               "effective_batch": effective_batch(per_process, process.world_size)}, f, indent=1)
            if failure:
                print("FAILED: " + failure, flush=True)
            print(report(result, process, backend), flush=True)
        return 1 if failure else 0
    finally:
        dist.destroy_process_group()


def torchrun_command(nproc_per_node: int = 2, backend: str = "gloo", *options: str) -> list[str]:
    """``torchrun --standalone --nproc_per_node=N -m course_lib.distributed --backend B OPTIONS`` for subprocess.run.

    ``python -m torch.distributed.run`` is torchrun, with this very Python (a notebook's kernel, a test's venv);
    --standalone lets the operating system pick a free port for the rendezvous instead of torchrun's fixed 29500.
    """
    nproc_per_node = _check_count("nproc_per_node", nproc_per_node, "processes to start on this machine")
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc_per_node}",
            "-m", "course_lib.distributed", "--backend", backend, *options]


def free_port() -> int:
    """A TCP port nobody listens on now (the OS picks it), for MASTER_PORT."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawned(local_rank: int, nproc: int, args: argparse.Namespace, codes) -> None:
    """The entry point of a process that ``--nproc`` started: torchrun's variables, then the same run.

    Its exit code goes into the shared array ``codes``: a process that exits non-zero makes
    torch.multiprocessing terminate the others while they are still leaving the group.
    """
    os.environ.update(RANK=str(local_rank), LOCAL_RANK=str(local_rank), WORLD_SIZE=str(nproc))
    codes[local_rank] = _run(args)


def spawn(nproc: int, args: argparse.Namespace) -> int:
    """Start ``nproc`` processes on this machine with torch.multiprocessing (what torchrun does, minus restarts)."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
    codes = torch.multiprocessing.get_context("spawn").Array("i", nproc)
    torch.multiprocessing.spawn(_spawned, args=(nproc, args, codes), nprocs=nproc, join=True)
    return max(codes)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_lib.distributed", description=__doc__.split("\n\n")[0],
                                epilog=LAUNCH_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=BACKENDS, default="gloo", help="gloo (CPU, default) or nccl (a GPU a process)")
    p.add_argument("--steps", type=int, default=5, help="SGD steps (default 5)")
    p.add_argument("--batch-size", type=int, default=32, help="examples a process takes each step (default 32); "
                   "the single process takes this x the world size")
    p.add_argument("--lr", type=float, default=0.1, help="SGD learning rate of both (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and of the digits drawn (default 0)")
    p.add_argument("--reduce", choices=("mean", "sum"), default="mean",
                   help="mean: DDP as it is; sum: a hook that forgets to divide by the world size (fails on purpose)")
    p.add_argument("--json", metavar="PATH", help="rank 0 also writes the measurements here")
    p.add_argument("--nproc", type=int, metavar="N", help="without torchrun: start N processes here")
    return p


def main(argv: list[str] | None = None) -> int:
    """The command line: check the numbers, then run this process's part, or start --nproc processes."""
    command = parser()
    args = command.parse_args(argv)
    try:
        _check_count("--steps", args.steps, "SGD steps")
        _check_count("--batch-size", args.batch_size, "examples a process takes each step")
        if args.nproc is not None:
            _check_count("--nproc", args.nproc, "processes to start")
    except ValueError as error:
        command.error(str(error))                  # the usage and the message, exit code 2
    return _run(args) if args.nproc is None else spawn(args.nproc, args)


def _run(args: argparse.Namespace) -> int:
    return run(args.backend, args.steps, args.batch_size, args.lr, args.seed, args.reduce, args.json)


if __name__ == "__main__":
    sys.exit(main())
