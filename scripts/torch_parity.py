#!/usr/bin/env python3
"""PyTorch side of the cnn3 parity check (issue #12): the study's CNN3 exactly as
../shared/reference/torch_seed_curve.py builds it, run on given weights and inputs.

  /usr/bin/python3 scripts/torch_parity.py SPEC.json OUT.json

SPEC.json (written by scripts/torch-parity.ts or test/train/torch-parity.test.ts):
  {
    "numClasses": 5,
    "dtype": "float32" | "float64"        (default float32; float64 gives a reference for both engines)
    "weights": {"c1.weight": [...], "c1.bias": [...], ..., "fc.bias": [...]}
                                          flat, row-major, PyTorch layout ([cout,cin,kh,kw], [out,in])
    "features": "FILE.f32"                float32 little-endian; each sample row-major [nMels][frames]
    "samples": [{"nMels": 128, "frames": T, "offset": first float in FILE.f32, "label": int,
                 "dropMask": optional [64] multipliers applied after global pooling (0 or 1/(1-p))}]
    "grad": true                          per sample: logits, loss, gradient of every parameter
    "adam": {"order": [sample indices], "lr": 1e-3}   optional: one Adam step per entry, batch 1
  }
Inputs are used as given (the caller standardises). Dropout: off (the model's nn.Dropout is in eval
mode), or the sample's dropMask when given. Gradients are those of the per-sample cross-entropy.

OUT.json: {"torch": version, "samples": [{"logits", "loss", "grads": {name: flat}}],
           "adam": {"losses": [...per step], "weights": {name: flat}}}
"""
import json
import sys

import numpy as np
import torch
import torch.nn as nn

NAMES = ["c1.weight", "c1.bias", "c2.weight", "c2.bias", "c3.weight", "c3.bias", "fc.weight", "fc.bias"]


class CNN3(nn.Module):
    """torch_seed_curve.py's CNN3, with an optional explicit dropout mask."""

    def __init__(self, n):
        super().__init__()
        self.c1, self.c2, self.c3 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1), nn.Conv2d(32, 64, 3, padding=1)
        self.pool, self.gap, self.drop, self.fc = nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Dropout(0.25), nn.Linear(64, n)

    def forward(self, x, drop_mask=None):
        x = self.pool(torch.relu(self.c1(x)))
        x = self.pool(torch.relu(self.c2(x)))
        x = torch.relu(self.c3(x))
        f = torch.flatten(self.gap(x), 1)
        f = self.drop(f) if drop_mask is None else f * drop_mask
        return self.fc(f)


def main():
    spec = json.load(open(sys.argv[1]))
    out_path = sys.argv[2]
    torch.set_num_threads(int(spec.get("threads", 1)))
    dtype = torch.float64 if spec.get("dtype") == "float64" else torch.float32
    model = CNN3(spec["numClasses"]).to(dtype)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name in NAMES:
            p = params[name]
            w = np.asarray(spec["weights"][name], dtype=np.float32)
            if w.size != p.numel():
                raise SystemExit(f"{name}: {w.size} values, expected {p.numel()} {tuple(p.shape)}")
            p.copy_(torch.from_numpy(w.reshape(p.shape)).to(dtype))
    model.eval()  # dropout off; gradients still flow (no batch norm in cnn3)
    data = np.fromfile(spec["features"], dtype=np.float32)
    samples = []
    for s in spec["samples"]:
        n = s["nMels"] * s["frames"]
        x = data[s["offset"]: s["offset"] + n].reshape(s["nMels"], s["frames"])
        dm = s.get("dropMask")
        samples.append((torch.from_numpy(x.copy()).to(dtype)[None, None], torch.tensor([int(s["label"])]),
                        None if dm is None else torch.tensor(dm, dtype=dtype)[None]))
    loss_fn = nn.CrossEntropyLoss()
    out = {"torch": torch.__version__, "dtype": str(dtype).replace("torch.", "")}
    if spec.get("grad", True):
        res = []
        for x, y, dm in samples:
            model.zero_grad()
            logits = model(x, dm)
            loss = loss_fn(logits, y)
            loss.backward()
            res.append({"logits": logits[0].tolist(), "loss": loss.item(),
                        "grads": {n: params[n].grad.reshape(-1).tolist() for n in NAMES}})
        out["samples"] = res
    if spec.get("adam"):
        a = spec["adam"]
        opt = torch.optim.Adam(model.parameters(), lr=a.get("lr", 1e-3))
        losses = []
        for k in a["order"]:
            x, y, dm = samples[k]
            opt.zero_grad()
            loss = loss_fn(model(x, dm), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        out["adam"] = {"losses": losses, "weights": {n: params[n].detach().reshape(-1).tolist() for n in NAMES}}
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
