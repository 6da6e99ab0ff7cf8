"""PyTorch reference figures for issue 7, measured on the same machine as `npm run bench`.

Debian's PyTorch (the 1.13 the issue's table names): `apt-get install python3-torch`, then
`/usr/bin/python3 bench/pytorch/reference.py [--seconds 5] [--threads 2]`.

Same work as the bench's scenarios, in PyTorch on the CPU:
- `train`: one Deep SVDD training step on 8,192 unit-normed pixels, cuvis's default network
  (27 bands -> 128 -> 32), every stage trainable (z-score mean/std, W1, b1, W2, radius), centre
  EMA (alpha 0.1, no gradient), soft-boundary loss (nu 0.05, softplus beta 10), global grad-norm
  clip 1.0, AdamW (lr 1e-3, weight decay 0.01): forward, backward, update.
- `xmr-frame` / `xmr-block`: the inference chain on float32 input (band-pass >= 700 nm of 61
  bands, unit norm, z-score, MLP, squared distance, per-frame 0.999 quantile), whole
  1080x1000 frames and 64x1024 blocks.
The last stdout line is one JSON object.
"""
import argparse
import json
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--seconds", type=float, default=5.0)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

C, H, D, BATCH = 27, 128, 32, 8192


class DeepSvdd(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.mean = torch.nn.Parameter(torch.zeros(C))
        self.std = torch.nn.Parameter(torch.ones(C))
        self.l1 = torch.nn.Linear(C, H)
        self.l2 = torch.nn.Linear(H, D, bias=False)
        self.r = torch.nn.Parameter(torch.tensor(1.0))
        self.register_buffer("center", torch.zeros(D))

    def forward(self, x):
        return self.l2(torch.relu(self.l1((x - self.mean) / self.std)))


def timed(step, seconds):
    for _ in range(2):
        step()
    n, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds or n < 3:
        step()
        n += 1
    return n / (time.perf_counter() - began)


def train_steps_per_second():
    model = DeepSvdd()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    x = torch.nn.functional.normalize(torch.rand(BATCH, C), dim=1)

    def step():
        z = model(x)
        with torch.no_grad():
            model.center.mul_(0.9).add_(0.1 * z.mean(0))
        d = ((z - model.center) ** 2).sum(1)
        r2 = (torch.nn.functional.softplus(model.r * 10) / 10) ** 2
        loss = r2 + torch.relu(d - r2).mean() / 0.05
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    return timed(step, args.seconds)


def inference_mpx_per_second(rows, cols):
    model = DeepSvdd().eval()
    bands = 61
    frame = torch.randint(0, 4096, (rows * cols, bands), dtype=torch.int16).float()
    keep = slice(bands - C, bands)

    def step():
        with torch.no_grad():
            x = frame[:, keep]
            x = x - x.mean(1, keepdim=True)
            x = x / x.norm(dim=1, keepdim=True).clamp_min(1e-8)
            d = ((model(x) - model.center) ** 2).sum(1)
            tau = torch.quantile(d[:: max(1, d.numel() // 16_000_000)], 0.999)
            return (d > tau).sum().item()

    return timed(step, args.seconds) * rows * cols / 1e6


result = {
    "torch": torch.__version__,
    "threads": torch.get_num_threads(),
    "trainStepsPerSecond": round(train_steps_per_second(), 2),
    "xmrFrameMpxPerSecond": round(inference_mpx_per_second(1080, 1000), 3),
    "xmrBlockMpxPerSecond": round(inference_mpx_per_second(64, 1024), 3),
}
print(json.dumps(result))
