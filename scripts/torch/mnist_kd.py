#!/usr/bin/env python3
"""The mnist_kd study in PyTorch (CPU): a teacher CNN, then each student alone and distilled.

It mirrors `cargo run --release -p mnist_kd` (apps/mnist_kd, default preset), so that its figures
can be compared with an independent implementation:

  data      data/mnist (the IDX files scripts/fetch-mnist fetches), pixels / 255; 5 000 training
            images held out for validation (a seeded random split, not the app's exact one);
            normalised with the mean and standard deviation of the remaining 55 000
  teacher   cnn:32,64,fc=128,bn,dropout=0.3 (kd/src/spec.rs): conv 3×3 pad 1 (32) → batch norm →
            ReLU → maxpool 2 → conv 3×3 pad 1 (64) → batch norm → ReLU → maxpool 2 → flatten
            (3136) → dropout → dense 128 → batch norm → ReLU → dropout → dense 10; up to 15
            epochs keeping the best on validation (patience 3), Adam 1e-3 with the app's cosine
            decay to a twentieth (per epoch), batch 128, each image shifted by up to ±2 pixels on
            each axis (vacated pixels take the image's smallest value)
  students  mlp:100,100 and mlp:10,10 (784 → widths → 10, ReLU); 10 epochs, Adam 1e-3, batch 128,
            no augmentation; for each seed the same initial weights alone and distilled
  distilled hard_weight·CE(z, labels) + soft_weight·T²·KL(softmax(t/T) ‖ softmax(z/T)), KL averaged
            over the batch, teacher logits t from the trained teacher in evaluation mode (no
            dropout) on the same images; default T = 2, weights 0.1 / 0.9 (the app's defaults)

As in the app: Kaiming-uniform weights (bound √(6 / fan_in)) and zero biases, a last partial
batch dropped, the data reshuffled every epoch, test figures after the last epoch, mean ± sample
standard deviation over the seeds. Random streams differ from the app's, so figures agree in
distribution, not bit for bit.

Output: progress on stderr; on stdout a Markdown table (test errors of 10 000 and accuracy, mean ±
std, agreement with the teacher) headed by the command, date, machine and PyTorch version; the
same and every per-seed figure in OUT/results-T<T>-hard<w>-soft<w>.json. The trained teacher is
saved in OUT/teacher.pt and reused by a later run with the same teacher settings (so a second run
at another temperature trains only the students). Every random draw is seeded (the teacher from
1, student seed s from 1000 + s for its weights and s for its data order): a rerun on the same
machine gives the same figures.

Runs at --threads 1 by default. The first run makes .venv-torch/ with PyTorch from PyPI
(scripts/torch/torch_env.py).
"""
import argparse
import datetime
import gzip
import json
import math
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__/ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_env  # noqa: E402

PROG = "mnist_kd.py"
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
SPEC_GRAMMAR = "mlp:W1,W2,…[,bn][,dropout=P] or cnn:C1,C2,…[,fc=N][,bn][,dropout=P]"


class Failure(Exception):
    """A problem to report in one line."""


def parse_spec(text):
    """`mlp:100,100` or `cnn:32,64,fc=128,dropout=0.3` -> dict, as kd/src/spec.rs reads them."""
    kind, sep, rest = text.partition(":")
    if not sep or kind not in ("mlp", "cnn"):
        raise Failure(f"model {text!r}: expected {SPEC_GRAMMAR}")
    spec = {"kind": kind, "widths": [], "fc": 0, "bn": False, "dropout": 0.0, "text": text}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        try:
            if eq and key == "dropout":
                spec["dropout"] = float(value)
                if not 0 <= spec["dropout"] < 1:
                    raise ValueError
            elif not eq and item == "bn":
                spec["bn"] = True
            elif eq and key == "fc" and kind == "cnn":
                spec["fc"] = int(value)
            elif not eq and int(item) > 0:
                spec["widths"].append(int(item))
            else:
                raise ValueError
        except ValueError:
            raise Failure(f"model {text!r}: cannot read {item!r} (expected {SPEC_GRAMMAR})")
    if kind == "cnn" and not spec["widths"]:
        raise Failure(f"model {text!r}: a CNN needs at least one convolution")
    return spec


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults in the help, except where there is none to show."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def parse_args():
    ap = argparse.ArgumentParser(
        prog="scripts/torch/mnist_kd.py", description=__doc__.split("\n")[0],
        formatter_class=_Help,
        epilog="The README's table: scripts/torch/mnist_kd.py, then scripts/torch/mnist_kd.py "
               "--temperature 4 (which reuses the teacher the first saved).")
    ap.add_argument("--data-dir", type=Path, default=torch_env.ROOT / "data" / "mnist",
                    help="folder with the four MNIST IDX files (raw or .gz)")
    ap.add_argument("--teacher", default="cnn:32,64,fc=128,bn,dropout=0.3",
                    help=f"the teacher ({SPEC_GRAMMAR})")
    ap.add_argument("--student", action="append",
                    help="a student; repeat for several (default: mlp:100,100 and mlp:10,10)")
    ap.add_argument("--teacher-epochs", type=int, default=15, help="epochs for the teacher")
    ap.add_argument("--teacher-lr", type=float, default=1e-3,
                    help="the teacher's Adam learning rate, decayed to a twentieth (cosine)")
    ap.add_argument("--teacher-shift", type=int, default=2,
                    help="largest shift of the teacher's training images, in pixels (0: none)")
    ap.add_argument("--teacher-patience", type=int, default=3,
                    help="keep the teacher's best epoch on the validation split (accuracy, ties to "
                         "the lower loss) and stop after this many epochs without a better one "
                         "(kd::KeepBest); 0: the last epoch, every epoch run")
    ap.add_argument("--epochs", type=int, default=10, help="epochs for each student")
    ap.add_argument("--lr", type=float, default=1e-3, help="the students' Adam learning rate")
    ap.add_argument("--batch-size", type=int, default=128, help="for the teacher and students")
    ap.add_argument("--temperature", "-T", type=float, default=2.0,
                    help="distillation temperature T (> 0)")
    ap.add_argument("--hard-weight", type=float, default=0.1,
                    help="weight of the hard-label cross-entropy, in [0, 1]")
    ap.add_argument("--soft-weight", type=float, default=0.9,
                    help="weight of the soft term (multiplied by T² internally)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per student (mean ± std)")
    ap.add_argument("--validation", type=int, default=5000,
                    help="training images held out for validation")
    ap.add_argument("--threads", type=int, default=1, help="PyTorch intra-op threads")
    ap.add_argument("--out", type=Path, default=torch_env.ROOT / "runs" / "torch-mnist-kd",
                    help="folder for teacher.pt and the results file")
    args = ap.parse_args()
    args.student = args.student or ["mlp:100,100", "mlp:10,10"]
    try:
        args.teacher_spec = parse_spec(args.teacher)
        args.student_specs = [parse_spec(s) for s in args.student]
    except Failure as e:
        torch_env.fail(PROG, str(e))
    for flag, value in [("--teacher-epochs", args.teacher_epochs), ("--epochs", args.epochs),
                        ("--batch-size", args.batch_size), ("--seeds", args.seeds),
                        ("--threads", args.threads), ("--validation", args.validation)]:
        if value < 1:
            torch_env.fail(PROG, f"{flag} must be at least 1, found {value}")
    if args.teacher_patience < 0:
        torch_env.fail(PROG, f"--teacher-patience must be ≥ 0, found {args.teacher_patience}")
    args.teacher_patience = args.teacher_patience or None
    if args.teacher_shift < 0:
        torch_env.fail(PROG, f"--teacher-shift must be ≥ 0, found {args.teacher_shift}")
    for flag, value in [("--lr", args.lr), ("--teacher-lr", args.teacher_lr),
                        ("--temperature", args.temperature)]:
        if not (value > 0 and math.isfinite(value)):
            torch_env.fail(PROG, f"{flag} must be a positive number, found {value}")
    for flag, value in [("--hard-weight", args.hard_weight), ("--soft-weight", args.soft_weight)]:
        if not 0 <= value <= 1:
            torch_env.fail(PROG, f"{flag} must be in [0, 1], found {value}")
    return args


def main():
    args = parse_args()
    torch_env.run_in_venv(PROG)
    try:
        study(args)
    except Failure as e:
        torch_env.fail(PROG, str(e))


def study(args):
    import torch
    from torch import nn
    import torch.nn.functional as F

    torch.set_num_interop_threads(1)
    torch.set_num_threads(args.threads)
    started = time.time()

    def log(msg):
        torch_env.log(PROG, msg)

    # ---- data -------------------------------------------------------------------------------
    def read_idx(name, magic, dims):
        path = args.data_dir / name
        if path.exists():
            raw = path.read_bytes()
        elif path.with_name(name + ".gz").exists():
            raw = gzip.decompress(path.with_name(name + ".gz").read_bytes())
        else:
            raise Failure(f"{path} not found: run scripts/fetch-mnist (or give --data-dir)")
        if len(raw) < 4 + 4 * dims or int.from_bytes(raw[:4], "big") != magic:
            raise Failure(f"{path}: not an IDX file of unsigned bytes with {dims} dimension(s)")
        shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
        body = raw[4 + 4 * dims:]
        if len(body) != math.prod(shape):
            raise Failure(f"{path}: the header says {shape}, i.e. {math.prod(shape)} bytes, "
                          f"but {len(body)} follow")
        return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(shape)

    x_train = read_idx(FILES["train_images"], 0x803, 3).float().div_(255).unsqueeze(1)
    y_train = read_idx(FILES["train_labels"], 0x801, 1).long()
    x_test = read_idx(FILES["test_images"], 0x803, 3).float().div_(255).unsqueeze(1)
    y_test = read_idx(FILES["test_labels"], 0x801, 1).long()
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise Failure(f"{args.data_dir}: as many labels as images are needed")
    if args.validation >= len(x_train):
        raise Failure(f"--validation ({args.validation}) must be below the {len(x_train)} "
                      "training images")
    order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(0x5EED))
    held, kept = order[:args.validation], order[args.validation:]
    x_val, y_val = x_train[held], y_train[held]
    x_train, y_train = x_train[kept], y_train[kept]
    mean, std = x_train.mean().item(), x_train.std(correction=0).item()
    x_train, x_val, x_test = [(x - mean) / std for x in (x_train, x_val, x_test)]
    log(f"{args.data_dir.name}: {len(x_train)} training, {len(x_val)} validation, {len(x_test)} test images "
        f"(mean {mean:.4f}, std {std:.4f}); {torch.get_num_threads()} thread(s)")

    # ---- models -----------------------------------------------------------------------------
    def build(spec, seed):
        gen = torch.Generator().manual_seed(seed)
        layers, features = [], 28 * 28
        if spec["kind"] == "mlp":
            layers.append(nn.Flatten())
            for w in spec["widths"]:
                layers += [nn.Linear(features, w)] + ([nn.BatchNorm1d(w)] if spec["bn"] else [])
                layers += [nn.ReLU()]
                if spec["dropout"]:
                    layers.append(nn.Dropout(spec["dropout"]))
                features = w
        else:
            channels, side = 1, 28
            for c in spec["widths"]:
                layers += [nn.Conv2d(channels, c, 3, padding=1)]
                layers += [nn.BatchNorm2d(c)] if spec["bn"] else []
                layers += [nn.ReLU(), nn.MaxPool2d(2)]
                channels, side = c, side // 2
                if side == 0:
                    raise Failure(f"model {spec['text']}: too many poolings for 28×28 images")
            features = channels * side * side
            layers.append(nn.Flatten())
            if spec["dropout"]:
                layers.append(nn.Dropout(spec["dropout"]))
            if spec["fc"]:
                layers += [nn.Linear(features, spec["fc"])]
                layers += [nn.BatchNorm1d(spec["fc"])] if spec["bn"] else []
                layers += [nn.ReLU()]
                if spec["dropout"]:
                    layers.append(nn.Dropout(spec["dropout"]))
                features = spec["fc"]
        layers.append(nn.Linear(features, 10))
        model = nn.Sequential(*layers)
        # Kaiming uniform, as nn/src/init.rs: U(−b, b), b = √(6 / fan_in); biases 0.
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, (nn.Linear, nn.Conv2d)):
                    fan_in = m.weight[0].numel()
                    bound = math.sqrt(6.0 / fan_in)
                    m.weight.copy_(torch.rand(m.weight.shape, generator=gen) * 2 * bound - bound)
                    m.bias.zero_()
        return model

    def parameters(model):
        return sum(p.numel() for p in model.parameters())

    # ---- training ---------------------------------------------------------------------------
    def shifted(x, limit, gen):
        """Each image moved by offsets uniform in [−limit, limit] per axis, vacated pixels set to
        the image's smallest value (nn/src/data/batches.rs)."""
        n, _, h, w = x.shape
        fill = x.amin(dim=(1, 2, 3)).view(n, 1, 1, 1)
        padded = fill.expand(n, 1, h + 2 * limit, w + 2 * limit).clone()
        padded[:, :, limit:limit + h, limit:limit + w] = x
        dy = torch.randint(-limit, limit + 1, (n,), generator=gen)
        dx = torch.randint(-limit, limit + 1, (n,), generator=gen)
        rows = torch.arange(h).view(1, h) + limit - dy.view(n, 1)
        cols = torch.arange(w).view(1, w) + limit - dx.view(n, 1)
        return padded[torch.arange(n).view(n, 1, 1), 0, rows.view(n, h, 1), cols.view(n, 1, w)
                      ].unsqueeze(1)

    def logits_of(model, x):
        model.eval()
        with torch.no_grad():
            return torch.cat([model(x[i:i + 1000]) for i in range(0, len(x), 1000)])

    def validation_score(model):
        """(accuracy, −loss) on the validation split: larger is better, as kd::KeepBest ranks."""
        z = logits_of(model, x_val)
        return ((z.argmax(1) == y_val).float().mean().item(), -F.cross_entropy(z, y_val).item())

    def fit(model, epochs, lr, seed, label, shift=0, cosine=False, teacher_logits=None,
            patience=None):
        """Trains `model`; with `patience`, keeps its best epoch on validation and stops after
        `patience` epochs without a better one. Returns (epochs run, best epoch or None)."""
        best, best_epoch, best_state = None, None, None
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        gen = torch.Generator().manual_seed(seed)  # the order of the data and the shifts
        torch.manual_seed(seed)  # dropout's masks (the global generator)
        steps = len(x_train) // args.batch_size
        T, hw, sw = args.temperature, args.hard_weight, args.soft_weight
        soft_targets = (None if teacher_logits is None
                        else F.softmax(teacher_logits / T, dim=1))
        for epoch in range(epochs):
            t0 = time.time()
            if cosine and epoch > 0:
                # CosineLr in nn/src/optim/schedule.rs: set after epoch e−1 to the value at e/E.
                low = lr / 20
                for group in opt.param_groups:
                    group["lr"] = low + 0.5 * (lr - low) * (1 + math.cos(math.pi * epoch / epochs))
            model.train()
            order = torch.randperm(len(x_train), generator=gen)
            total = 0.0
            for b in range(steps):
                idx = order[b * args.batch_size:(b + 1) * args.batch_size]
                x, y = x_train[idx], y_train[idx]
                if shift:
                    x = shifted(x, shift, gen)
                z = model(x)
                if soft_targets is None:
                    loss = F.cross_entropy(z, y)
                else:
                    kl = F.kl_div(F.log_softmax(z / T, dim=1), soft_targets[idx],
                                  reduction="batchmean")
                    loss = sw * T * T * kl
                    if hw:
                        loss = loss + hw * F.cross_entropy(z, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item()
            errors = (logits_of(model, x_test).argmax(1) != y_test).sum().item()
            log(f"{label}: epoch {epoch + 1}/{epochs} loss {total / steps:.4f}, "
                f"{errors} test errors, {time.time() - t0:.1f} s")
            if patience is not None:
                now = validation_score(model)
                if best is None or now > best:
                    best, best_epoch = now, epoch
                    best_state = {k: v.clone() for k, v in model.state_dict().items()}
                elif epoch - best_epoch >= patience:
                    log(f"{label}: no better validation score for {patience} epochs; stopping")
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
            log(f"{label}: keeping epoch {best_epoch + 1} (validation accuracy {100 * best[0]:.2f} %)")
        return epoch + 1, best_epoch

    def score(model, teacher_pred=None):
        pred = logits_of(model, x_test).argmax(1)
        errors = (pred != y_test).sum().item()
        result = {
            "test_errors": errors,
            "test_accuracy": 100 * (1 - errors / len(y_test)),
            "validation_accuracy": 100 * (logits_of(model, x_val).argmax(1) == y_val)
            .float().mean().item(),
            "parameters": parameters(model),
        }
        if teacher_pred is not None:
            result["agreement"] = 100 * (pred == teacher_pred).float().mean().item()
        return result, pred

    # ---- the study --------------------------------------------------------------------------
    args.out.mkdir(parents=True, exist_ok=True)
    teacher_settings = {"spec": args.teacher, "epochs": args.teacher_epochs, "lr": args.teacher_lr,
                        "shift": args.teacher_shift, "patience": args.teacher_patience,
                        "batch_size": args.batch_size, "data": str(args.data_dir.resolve()),
                        "validation": args.validation, "normalisation": [mean, std]}
    teacher_file = args.out / "teacher.pt"
    teacher = build(args.teacher_spec, 1)
    saved = torch.load(teacher_file, weights_only=False) if teacher_file.exists() else None
    if saved and saved.get("settings") == teacher_settings:
        teacher.load_state_dict(saved["state"])
        teacher_seconds, reused = saved["seconds"], True
        teacher_epochs_run, teacher_best = saved["epochs_run"], saved["best_epoch"]
        log(f"teacher {args.teacher}: reusing {teacher_file} (same settings)")
    else:
        t0 = time.time()
        teacher_epochs_run, teacher_best = fit(
            teacher, args.teacher_epochs, args.teacher_lr, 1, f"teacher {args.teacher}",
            shift=args.teacher_shift, cosine=True, patience=args.teacher_patience)
        teacher_seconds, reused = time.time() - t0, False
        torch.save({"settings": teacher_settings, "state": teacher.state_dict(),
                    "seconds": teacher_seconds, "epochs_run": teacher_epochs_run,
                    "best_epoch": teacher_best}, teacher_file)
    teacher_result, teacher_pred = score(teacher)
    teacher_result.update(seconds=teacher_seconds, epochs_run=teacher_epochs_run,
                          best_epoch=None if teacher_best is None else teacher_best + 1)
    teacher_train_logits = logits_of(teacher, x_train)

    runs = []
    for spec in args.student_specs:
        for seed in range(args.seeds):
            for role in ("alone", "distilled"):
                t0 = time.time()
                student = build(spec, 1000 + seed)  # the same initial weights for both roles
                fit(student, args.epochs, args.lr, seed, f"{spec['text']} {role} seed {seed}",
                    teacher_logits=teacher_train_logits if role == "distilled" else None)
                result, _ = score(student, teacher_pred)
                result.update(student=spec["text"], role=role, seed=seed,
                              seconds=time.time() - t0)
                runs.append(result)

    # ---- the report -------------------------------------------------------------------------
    def mean_std(values):
        return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)

    rows = [(f"{args.teacher} (teacher)", teacher_result["parameters"],
             f"{teacher_result['test_accuracy']:.2f}", f"{teacher_result['test_errors']}", "100.00")]
    summary = []
    for spec in args.student_specs:
        for role in ("alone", "distilled"):
            mine = [r for r in runs if r["student"] == spec["text"] and r["role"] == role]
            acc, acc_sd = mean_std([r["test_accuracy"] for r in mine])
            err, err_sd = mean_std([r["test_errors"] for r in mine])
            agree, _ = mean_std([r["agreement"] for r in mine])
            summary.append({"student": spec["text"], "role": role, "test_errors_mean": err,
                            "test_errors_std": err_sd, "test_accuracy_mean": acc,
                            "test_accuracy_std": acc_sd, "agreement_mean": agree})
            rows.append((f"{spec['text']} ({role})", mine[0]["parameters"],
                         f"{acc:.2f} ± {acc_sd:.2f}", f"{err:.1f} ± {err_sd:.1f}", f"{agree:.2f}"))

    command = "scripts/torch/mnist_kd.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    machine = cpu_model()
    wall = time.time() - started
    print(f"Command: `{command.strip()}`  ")
    print(f"Date: {datetime.date.today()}; machine: {machine}, {torch.get_num_threads()} thread(s); "
          f"PyTorch {torch.__version__}; wall time {wall / 60:.1f} min"
          f"{' (teacher reused)' if reused else ''}  ")
    kept = ("" if teacher_best is None else
            f", best on validation kept: epoch {teacher_best + 1} of {teacher_epochs_run} run")
    print(f"Data: {args.data_dir}. Teacher {args.teacher_epochs} epochs (shift "
          f"±{args.teacher_shift}{kept}); students "
          f"{args.epochs} epochs, Adam {args.lr:g}; T = {args.temperature:g}, hard weight "
          f"{args.hard_weight:g}, soft weight {args.soft_weight:g}; {args.seeds} seed(s); test "
          f"set, last epoch, mean ± std over seeds")
    print()
    print("| model | parameters | test accuracy % | test errors | agreement with teacher % |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    results = args.out / (f"results-T{args.temperature:g}-hard{args.hard_weight:g}"
                          f"-soft{args.soft_weight:g}.json")
    results.write_text(json.dumps({
        "command": command.strip(), "date": str(datetime.date.today()), "machine": machine,
        "torch": torch.__version__, "threads": torch.get_num_threads(), "wall_seconds": wall,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                     if k not in ("teacher_spec", "student_specs")},
        "teacher": dict(teacher_result, reused=reused), "summary": summary, "runs": runs,
    }, indent=2))
    log(f"done in {wall / 60:.1f} min; results in {results}")


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        if m:
            return m.group(1).strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
