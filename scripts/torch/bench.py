#!/usr/bin/env python3
"""PyTorch (CPU) on the workloads of the project's benchmark binary, printed the way it prints them.

It mirrors `cargo run --release -p bench` (apps/bench, after BENCHMARKS.md): the same nine shared
workloads, the same steady-state method, the same JSON lines on stdout, so that
scripts/bench-vs-torch can put the two side by side.

  sgemm_256/512/1024  C = A·B, square n×n, f32                        GFLOP/s (2n³ / t)
  mlp_train           MLP 784-800-800-10, ReLU, batch 128: forward, softmax cross-entropy,
                      backward, SGD (lr 0.01, momentum 0.9)            samples/s
  cnn_train           conv 1→32 3×3 → ReLU → conv 32→64 3×3 → ReLU → maxpool 2 → dense 9216→128 →
                      ReLU → dense 10 (no padding), input 1×28×28; the same step   samples/s
  conv1d_train        conv1d 1→32 k5 → ReLU → pool 2 → conv1d 32→64 k5 → ReLU → pool 2 →
                      dense 2752→64 → ReLU → dense 5, input 1×187; the same step   samples/s
  mlp_infer_b1        the MLP's forward only, batch 1, no gradient recording   µs per call
  mlp_infer_b1024     the same, batch 1024                              samples/s
  kd_step             teacher = cnn_train's network (forward only, no gradient), student = the MLP;
                      0.1·CE + 0.9·T²·KL at T = 4; backward and SGD of the student   samples/s

Inputs are random (N(0, 1) inputs, uniform labels), fixed for all steps: only time is measured.
Method, as in apps/bench/src/timing.rs: call for min(--min-time / 4, 0.5) s to warm up, then
--repeats times call for at least --min-time s; the value is from the median time per call.

Output: one line per workload and thread count, nothing else on stdout, e.g.
  {"workload": "mlp_train", "threads": 1, "value": 2144.9, "unit": "samples/s"}
The PyTorch version and its CPU capability go to stderr.

With --steps N and one training workload in --only: run exactly N steps, print nothing on stdout,
and exit (for measuring peak memory, like `bench --steps N`).

The first run makes .venv-torch/ with PyTorch from PyPI (scripts/torch/torch_env.py).
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__/ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_env  # noqa: E402

PROG = "bench.py"
BATCH = 128
LR, MOMENTUM = 0.01, 0.9
KD_T, KD_SOFT = 4.0, 0.9
# name -> unit, in the order they run (the order of apps/bench's shared workloads).
UNITS = {
    "sgemm_256": "GFLOP/s",
    "sgemm_512": "GFLOP/s",
    "sgemm_1024": "GFLOP/s",
    "mlp_train": "samples/s",
    "cnn_train": "samples/s",
    "conv1d_train": "samples/s",
    "kd_step": "samples/s",
    "mlp_infer_b1": "µs per call",
    "mlp_infer_b1024": "samples/s",
}
TRAINING = ["mlp_train", "cnn_train", "conv1d_train", "kd_step"]


def parse_args():
    ap = argparse.ArgumentParser(
        prog="scripts/torch/bench.py",
        description=__doc__.split("\n")[0],
        epilog="Workloads: " + ", ".join(UNITS))
    ap.add_argument("--only", default="",
                    help="comma-separated workloads to run (default: all, in the order above)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                    help="thread counts to run at, one after the other (default: 1 2)")
    ap.add_argument("--min-time", type=float, default=2.0,
                    help="seconds each measured repeat lasts at least (default: 2)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="measured repeats; the median is reported (default: 3)")
    ap.add_argument("--steps", type=int,
                    help="run the one training workload named by --only for exactly this many "
                         "steps at the first --threads value, print nothing, exit")
    ap.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = ap.parse_args()
    if args.list:
        for name, unit in UNITS.items():
            print(f"{name} ({unit})")
        sys.exit(0)
    args.names = [n for n in args.only.split(",") if n] or list(UNITS)
    unknown = [n for n in args.names if n not in UNITS]
    if unknown:
        torch_env.fail(PROG, f"unknown workload(s) {', '.join(unknown)}; --list shows them")
    if any(t < 1 for t in args.threads):
        torch_env.fail(PROG, f"--threads must be at least 1, found {args.threads}")
    if not (args.min_time > 0) or args.repeats < 1:
        torch_env.fail(PROG, f"--min-time must be > 0 and --repeats ≥ 1, found {args.min_time} "
                             f"and {args.repeats}")
    if args.steps is not None:
        if len(args.names) != 1 or args.names[0] not in TRAINING:
            torch_env.fail(PROG, f"--steps needs exactly one training workload in --only "
                                 f"({', '.join(TRAINING)}), found {args.only!r}")
        if args.steps < 1:
            torch_env.fail(PROG, f"--steps must be at least 1, found {args.steps}")
    return args


def main():
    args = parse_args()
    torch_env.run_in_venv(PROG)

    import torch
    from torch import nn
    import torch.nn.functional as F

    # Before any parallel work: one inter-op thread, so --threads counts the intra-op ones only.
    torch.set_num_interop_threads(1)

    def mlp():
        return nn.Sequential(nn.Linear(784, 800), nn.ReLU(), nn.Linear(800, 800), nn.ReLU(),
                             nn.Linear(800, 10))

    def cnn():
        # 28 → 26 → 24 → pool → 12: 64·12·12 = 9216 features.
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(),
                             nn.Linear(128, 10))

    def conv1d():
        # 187 → 183 → 91 → 87 → 43: 64·43 = 2752 features.
        return nn.Sequential(nn.Conv1d(1, 32, 5), nn.ReLU(), nn.MaxPool1d(2),
                             nn.Conv1d(32, 64, 5), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten(),
                             nn.Linear(2752, 64), nn.ReLU(), nn.Linear(64, 5))

    def batch(shape, classes):
        return torch.randn(BATCH, *shape), torch.randint(classes, (BATCH,))

    def sgd(model):
        return torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def train_step(model, shape, classes):
        x, y = batch(shape, classes)
        opt = sgd(model)

        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
        return step

    def kd_step():
        teacher, student = cnn().eval(), mlp()
        x, y = batch((1, 28, 28), 10)
        opt = sgd(student)

        def step():
            with torch.inference_mode():  # PyTorch's fastest "no gradient recording"
                t = teacher(x)
            # Outside inference mode: the KL term's backward keeps its target.
            soft_targets = F.softmax(t / KD_T, dim=1)
            opt.zero_grad(set_to_none=True)
            z = student(x.flatten(1))
            kl = F.kl_div(F.log_softmax(z / KD_T, dim=1), soft_targets, reduction="batchmean")
            loss = (1 - KD_SOFT) * F.cross_entropy(z, y) + KD_SOFT * KD_T ** 2 * kl
            loss.backward()
            opt.step()
        return step

    def infer(n):
        model = mlp().eval()
        x = torch.randn(n, 784)

        def call():
            with torch.inference_mode():
                model(x)
        return call

    def sgemm(n):
        a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
        return lambda: torch.mm(a, b, out=c)

    # name -> (the call, set up; seconds per call -> the reported value)
    def setup(name):
        if name.startswith("sgemm_"):
            n = int(name.split("_")[1])
            return sgemm(n), lambda s: 2 * n ** 3 / s / 1e9
        per_batch = lambda s: BATCH / s  # noqa: E731
        if name == "mlp_train":
            return train_step(mlp(), (784,), 10), per_batch
        if name == "cnn_train":
            return train_step(cnn(), (1, 28, 28), 10), per_batch
        if name == "conv1d_train":
            return train_step(conv1d(), (1, 187), 5), per_batch
        if name == "kd_step":
            return kd_step(), per_batch
        if name == "mlp_infer_b1":
            return infer(1), lambda s: s * 1e6
        return infer(1024), lambda s: 1024 / s

    def seconds_per_call(call):
        warm = time.perf_counter()
        while time.perf_counter() - warm < min(args.min_time / 4, 0.5):
            call()
        per_call = []
        for _ in range(args.repeats):
            start, calls = time.perf_counter(), 0
            while time.perf_counter() - start < args.min_time:
                call()
                calls += 1
            per_call.append((time.perf_counter() - start) / calls)
        per_call.sort()
        return per_call[len(per_call) // 2]

    torch.manual_seed(0)
    if args.steps is not None:
        torch.set_num_threads(args.threads[0])
        step, _ = setup(args.names[0])
        for _ in range(args.steps):
            step()
        return
    print(f"# torch {torch.__version__}, cpu_capability="
          f"{torch.backends.cpu.get_cpu_capability()}, mkldnn={torch.backends.mkldnn.is_available()},"
          f" inter-op threads {torch.get_num_interop_threads()}", file=sys.stderr, flush=True)
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name in args.names:
            call, value = setup(name)
            v = value(seconds_per_call(call))
            print(json.dumps({"workload": name, "threads": threads, "value": round(v, 1),
                              "unit": UNITS[name]}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
