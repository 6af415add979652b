#!/usr/bin/env python3
# Usage: /usr/bin/python3 scripts/torch_pad_effect.py FEATURES.f32 INDEX.json SEED EPOCHS  (prints JSON lines)
# How much does zero-padding T to a multiple of 4 change a TRAINED cnn3's outputs? Train PyTorch's CNN3
# the study's way (batch 1, Adam 1e-3, dropout 0.25, floor pooling), and every 10 epochs evaluate the test
# and validation sets both ways (own length vs zero-padded to x4): accuracy, flipped predictions, |dlogit|.
import json, sys, time
import numpy as np, torch, torch.nn as nn
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_parity import CNN3
torch.set_num_threads(1); torch.manual_seed(int(sys.argv[3])); np.random.seed(int(sys.argv[3]))
index = json.load(open(sys.argv[2])); data = np.fromfile(sys.argv[1], dtype=np.float32)
labels = sorted({i["label"] for i in index})
def sample(i, pad):
    x = data[i["offset"]: i["offset"] + i["nMels"] * i["frames"]].reshape(i["nMels"], i["frames"])
    x = (x - x.mean()) / x.std()
    if pad:
        T = -(-i["frames"] // 4) * 4
        x = np.pad(x, ((0, 0), (0, T - i["frames"])))
    return torch.from_numpy(x.copy())[None, None], labels.index(i["label"])
sets = {r: [sample(i, False) for i in index if i["role"] == r] for r in ("train", "val", "test")}
padded = {r: [sample(i, True) for i in index if i["role"] == r] for r in ("train", "val", "test")}
model = CNN3(len(labels)); opt = torch.optim.Adam(model.parameters(), lr=1e-3); lf = nn.CrossEntropyLoss()
def evaluate(r):
    model.eval()
    with torch.no_grad():
        a = [model(x) for x, _ in sets[r]]; b = [model(x) for x, _ in padded[r]]
    model.train()
    y = [t for _, t in sets[r]]
    acc = lambda zs: sum(int(z.argmax(1).item() == t) for z, t in zip(zs, y)) / len(y)
    flips = sum(int(u.argmax(1).item() != v.argmax(1).item()) for u, v in zip(a, b))
    d = max(float((u - v).abs().max()) for u, v in zip(a, b)); scale = max(float(u.abs().max()) for u in a)
    return {"acc_own": round(acc(a), 4), "acc_pad": round(acc(b), 4), "flips": flips, "n": len(y), "max_dlogit": round(d, 4), "max_logit": round(scale, 2)}
train = sets["train"]
for epoch in range(1, int(sys.argv[4]) + 1):
    t0, tot = time.time(), 0.0
    for k in np.random.permutation(len(train)):
        x, y = train[k]; opt.zero_grad(); loss = lf(model(x), torch.tensor([y])); loss.backward(); opt.step(); tot += loss.item()
    line = {"epoch": epoch, "loss": round(tot / len(train), 4), "s": round(time.time() - t0, 1)}
    if epoch % 10 == 0: line.update({"test": evaluate("test"), "val": evaluate("val")})
    print(json.dumps(line), flush=True)
