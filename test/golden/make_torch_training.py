#!/usr/bin/python3
"""PyTorch goldens for spurlab's training and model interop (issue 5).

Run with Debian's python3 (torch 1.13, numpy):
    /usr/bin/python3 test/golden/make_torch_training.py
It writes, next to this script:

  torch_train_mlp.safetensors   a 20-16-16-3 MLP (the reference's parameter names):
                                initial weights "init.*", five batches "batch.<k>.x",
                                and the weights after five optimizer steps for each
                                case "<case>.*" (Adam and SGD, with and without weight
                                decay and gradient clipping by value); "trainer.*": a
                                tiny data set and an MLP before and after a 20-epoch run
  torch_train.json              labels, per-step losses, clipping counts, case settings,
                                the MultiStepLR learning rates per epoch, the parameter
                                counts of the reference architectures, and the forward
                                interop cases
  torch_interop_{largemlp,cnn002,resnet20}.safetensors.gz
                                state_dicts of the reference architectures exactly as
                                torch names them (num_batches_tracked included, I64)
  torch_interop_io.safetensors  fixed inputs and the logits torch computes from them

The architectures below are written from PROTOCOL.md section 4 with the reference's
module names; they are the "twins" spurlab's models must match. The interop weights
are rounded to bfloat16 precision (still stored as F32) so that gzip shrinks the files
to a third; the values are torch's initialisations otherwise, with every bias, BN
affine parameter and BN running statistic made non-trivial.
The safetensors package is not installed here, so files are written by hand:
u64 little-endian header length, JSON header padded with spaces to 8 bytes, data.
"""
import gzip
import json
import os
import struct
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

MAGIC = "spurlab-golden-torch-training"
VERSION = 1
GENERATOR = "test/golden/make_torch_training.py"
HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}

# ---------------------------------------------------------------- file writing


def safetensors_bytes(tensors, metadata):
    header = {"__metadata__": metadata}
    chunks, offset = [], 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().cpu().numpy().tobytes()  # little-endian on this machine
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write_file(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def file_metadata(what):
    return {"magic": MAGIC, "version": str(VERSION), "generator": GENERATOR, "torch": torch.__version__, "contents": what}


# ---------------------------------------------------------------- the reference architectures


class TwinMLP(nn.Module):
    """Linear layers hidden, hidden2, ..., fc with ReLU between (mlps.py of the reference)."""

    def __init__(self, features, widths, classes):
        super().__init__()
        self.names = []
        fan_in = features
        for i, w in enumerate(widths):
            name = "hidden" if i == 0 else f"hidden{i + 1}"
            setattr(self, name, nn.Linear(fan_in, w))
            self.names.append(name)
            fan_in = w
        self.fc = nn.Linear(fan_in, classes)

    def forward(self, x):
        for name in self.names:
            x = F.relu(getattr(self, name)(x))
        return self.fc(x)


class TwinCNN002(nn.Module):
    """TRADES' small CNN as the reference names it (feature_extractor / classifier)."""

    def __init__(self, channels=1, classes=10):
        super().__init__()
        self.feature_extractor = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(channels, 32, 3)), ("relu1", nn.ReLU()),
            ("conv2", nn.Conv2d(32, 32, 3)), ("relu2", nn.ReLU()),
            ("maxpool1", nn.MaxPool2d(2, 2)),
            ("conv3", nn.Conv2d(32, 64, 3)), ("relu3", nn.ReLU()),
            ("conv4", nn.Conv2d(64, 64, 3)), ("relu4", nn.ReLU()),
            ("maxpool2", nn.MaxPool2d(2, 2)),
        ]))
        self.classifier = nn.Sequential(OrderedDict([
            ("fc1", nn.Linear(64 * 4 * 4, 200)), ("relu1", nn.ReLU()),
            ("drop", nn.Dropout(0.5)),
            ("fc2", nn.Linear(200, 200)), ("relu2", nn.ReLU()),
            ("fc3", nn.Linear(200, classes)),
        ]))

    def forward(self, x):
        return self.classifier(self.feature_extractor(x).reshape(x.shape[0], -1))


class TwinBlock(nn.Module):
    """Basic block with the option-A shortcut (stride-2 subsample, zero-padded channels)."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if (stride != 1 or cin != planes) else None

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        short = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + short)


CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)


class TwinResNet(nn.Module):
    def __init__(self, blocks, classes=10, normalize=False):
        super().__init__()
        self.normalize = normalize
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for stage, planes in enumerate((16, 32, 64)):
            layers = []
            for b in range(blocks):
                layers.append(TwinBlock(cin, planes, 2 if (b == 0 and stage > 0) else 1))
                cin = planes
            setattr(self, f"layer{stage + 1}", nn.Sequential(*layers))
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        if self.normalize:
            mean = torch.tensor(CIFAR_MEAN, dtype=x.dtype)[None, :, None, None]
            std = torch.tensor(CIFAR_STD, dtype=x.dtype)[None, :, None, None]
            x = (x - mean) / std
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.shape[3]).flatten(1)
        return self.linear(out)


VGG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class TwinVGG16(nn.Module):
    """Only counted: features.<i> as torchvision's vgg16 / vgg16_bn, 25088-4096-4096-classes."""

    def __init__(self, batch_norm, classes=10):
        super().__init__()
        layers, cin = [], 3
        for v in VGG_D:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers.append(nn.Conv2d(cin, v, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU())
            cin = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(),
            nn.Linear(4096, classes))


def count(model):
    return sum(p.numel() for p in model.parameters())


def parameter_counts():
    counts = OrderedDict()
    counts["MLP"] = count(TwinMLP(784, [256], 10))
    counts["MLPv2"] = count(TwinMLP(784, [256, 256], 10))
    counts["LargeMLP"] = count(TwinMLP(784, [256, 256, 256], 10))
    counts["LargeMLPv2"] = count(TwinMLP(784, [512, 512, 512], 10))
    counts["CNN002"] = count(TwinCNN002(1, 10))
    for depth, blocks in ((20, 3), (32, 5), (110, 18)):
        counts[f"ResNet{depth}"] = count(TwinResNet(blocks))
        counts[f"ResNet{depth}Norm02"] = count(TwinResNet(blocks, normalize=True))
    counts["Vgg16Norm02"] = count(TwinVGG16(batch_norm=False))
    counts["Vgg16BNNorm02"] = count(TwinVGG16(batch_norm=True))
    return counts



# ---------------------------------------------------------------- optimizer steps

TRAIN_SHAPE = (20, [16, 16], 3)  # features, hidden widths, classes
TRAIN_STEPS = 5
TRAIN_BATCH = 8
ADAM = {"lr": 0.01}
SGD = {"lr": 0.05, "momentum": 0.9}
# name, optimizer, weight decay, clip value (0 = no clipping)
TRAIN_CASES = [
    ("adam_wd_clip", "adam", 1e-3, 0.05), ("adam_wd", "adam", 1e-3, 0.0),
    ("adam_clip", "adam", 0.0, 0.05), ("adam_plain", "adam", 0.0, 0.0),
    ("sgd_wd_clip", "sgd", 1e-3, 0.05), ("sgd_wd", "sgd", 1e-3, 0.0),
    ("sgd_clip", "sgd", 0.0, 0.05), ("sgd_plain", "sgd", 0.0, 0.0),
]


def train_case(init, batches, optimizer, wd, clip, dtype):
    """The reference's step: zero_grad, mean cross-entropy, backward, clip_grad_value_, step."""
    model = TwinMLP(*TRAIN_SHAPE).to(dtype)
    model.load_state_dict(init)
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), weight_decay=wd, **ADAM)
    else:
        opt = torch.optim.SGD(model.parameters(), weight_decay=wd, **SGD)
    losses, clipped = [], []
    for x, y in batches:
        opt.zero_grad()
        loss = F.cross_entropy(model(x.to(dtype)), y)
        loss.backward()
        grads = [p.grad for p in model.parameters()]
        clipped.append(int(sum((g.abs() > clip).sum().item() for g in grads)) if clip > 0 else 0)
        if clip > 0:
            torch.nn.utils.clip_grad_value_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
    return OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items()), losses, clipped


def make_training():
    torch.manual_seed(20240501)
    init = TwinMLP(*TRAIN_SHAPE).state_dict()
    batches = [(3 * torch.randn(TRAIN_BATCH, TRAIN_SHAPE[0]), torch.randint(0, TRAIN_SHAPE[2], (TRAIN_BATCH,)))
               for _ in range(TRAIN_STEPS)]
    tensors = OrderedDict((f"init.{k}", v) for k, v in init.items())
    for k, (x, _) in enumerate(batches):
        tensors[f"batch.{k}.x"] = x
    cases = OrderedDict()
    for name, optimizer, wd, clip in TRAIN_CASES:
        final, losses, clipped = train_case(init, batches, optimizer, wd, clip, torch.float32)
        init64 = OrderedDict((k, v.double()) for k, v in init.items())
        final64, _, _ = train_case(init64, batches, optimizer, wd, clip, torch.float64)
        for k, v in final.items():
            tensors[f"{name}.{k}"] = v
        drift = max((final[k].double() - final64[k]).abs().max().item() for k in final)
        settings = dict(ADAM if optimizer == "adam" else SGD)
        settings.update({"optimizer": optimizer, "weightDecay": wd, "clip": clip})
        cases[name] = {"settings": settings, "losses": losses, "clippedPerStep": clipped,
                       "float32VsFloat64MaxAbs": drift}
    trainer = make_trainer(tensors)
    write_file("torch_train_mlp.safetensors", safetensors_bytes(tensors, file_metadata("train")))
    return {
        "trainer": trainer,
        "shape": {"features": TRAIN_SHAPE[0], "widths": TRAIN_SHAPE[1], "classes": TRAIN_SHAPE[2]},
        "steps": TRAIN_STEPS, "batchSize": TRAIN_BATCH,
        "gradientCount": sum(v.numel() for v in init.values()),
        "labels": [y.tolist() for _, y in batches],
        "cases": cases,
    }


# ---------------------------------------------------------------- a whole training run

TRAINER = {"model": "MLP", "height": 2, "width": 3, "channels": 1, "classes": 3, "trainN": 12, "testN": 4,
           "optimizer": "adam", "lr": 0.01, "weightDecay": 1e-3, "gradClip": 0.05, "batchSize": 5,
           "epochs": 20, "modelSeed": 3}


def trainer_run(init, flat, labels, orders, dtype):
    c = TRAINER
    model = TwinMLP(flat.shape[1], [256], c["classes"]).to(dtype)
    model.load_state_dict(init)
    opt = torch.optim.Adam(model.parameters(), lr=c["lr"], weight_decay=c["weightDecay"])
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=reference_milestones(c["epochs"]), gamma=0.1)
    history = []
    for epoch, order in enumerate(orders, start=1):
        lr = opt.param_groups[0]["lr"]
        loss_sum = 0.0
        for start in range(0, len(order), c["batchSize"]):
            idx = torch.tensor(order[start:start + c["batchSize"]])
            opt.zero_grad()
            loss = F.cross_entropy(model(flat[idx].to(dtype)), labels[idx])
            loss.backward()
            torch.nn.utils.clip_grad_value_(model.parameters(), c["gradClip"])
            opt.step()
            loss_sum += loss.item() * len(idx)
        sched.step()
        history.append({"epoch": epoch, "lr": lr, "loss": loss_sum / len(order)})
    return OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items()), history


def make_trainer(tensors):
    """The reference's fit loop on a tiny data set: per-epoch order from numpy's
    RandomState([modelSeed, 1]).permutation (as spurlab's trainer draws it), a partial last
    batch, clipping, Adam with weight decay, MultiStepLR stepped after each epoch."""
    import numpy as np

    c = TRAINER
    torch.manual_seed(99)
    images = torch.rand(c["trainN"], c["height"], c["width"], c["channels"])
    labels = torch.randint(0, c["classes"], (c["trainN"],))
    test_images = torch.rand(c["testN"], c["height"], c["width"], c["channels"])
    test_labels = torch.randint(0, c["classes"], (c["testN"],))
    flat = images.reshape(c["trainN"], -1)
    init = TwinMLP(flat.shape[1], [256], c["classes"]).state_dict()
    rs = np.random.RandomState([c["modelSeed"], 1])
    orders = [rs.permutation(c["trainN"]).tolist() for _ in range(c["epochs"])]
    final, history = trainer_run(init, flat, labels, orders, torch.float32)
    final64, _ = trainer_run(OrderedDict((k, v.double()) for k, v in init.items()), flat, labels, orders, torch.float64)
    for k, v in init.items():
        tensors[f"trainer.init.{k}"] = v.clone()
    for k, v in final.items():
        tensors[f"trainer.final.{k}"] = v
    tensors["trainer.train_images"] = images
    tensors["trainer.test_images"] = test_images
    drift = max((final[k].double() - final64[k]).abs().max().item() for k in final)
    return dict(c, labels=labels.tolist(), testLabels=test_labels.tolist(), orders=orders, history=history,
                float32VsFloat64MaxAbs=drift)


# ---------------------------------------------------------------- MultiStepLR


def reference_milestones(total):
    """PROTOCOL.md section 5 (get_scheduler of the reference)."""
    table = [(30, [15, 25]), (40, [20, 30]), (50, [25, 40]), (60, [30, 50]), (70, [40, 50, 60]),
             (80, [40, 60, 70]), (120, [50, 90, 110]), (140, [60, 100, 120]), (160, [40, 80, 120, 140]),
             (180, [80, 140, 180]), (200, [80, 140, 180])]
    for limit, milestones in table:
        if total <= limit:
            return milestones
    return [60, 120]


def make_schedule():
    out = []
    for total in (20, 30, 70, 100, 300):
        milestones = reference_milestones(total)
        for lr0 in (0.1, 0.01):
            p = torch.zeros(1, requires_grad=True)
            opt = torch.optim.SGD([p], lr=lr0)
            sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.1)
            lrs = []
            for _ in range(total):
                lrs.append(opt.param_groups[0]["lr"])  # the rate the epoch trains with
                opt.step()
                sched.step()  # after each epoch, as the reference
            out.append({"epochs": total, "lr0": lr0, "milestones": milestones, "lrs": lrs})
    return out


# ---------------------------------------------------------------- forward interop


def to_bf16_precision(model):
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.copy_(t.to(torch.bfloat16).to(torch.float32))


def write_state(name, model):
    data = safetensors_bytes(model.state_dict(), file_metadata(f"state_dict of the reference {name}"))
    write_file(f"torch_interop_{name.lower()}.safetensors.gz", gzip.compress(data, 9, mtime=0))
    return sum(t.numel() for t in model.state_dict().values() if t.is_floating_point())


def make_interop():
    io = OrderedDict()
    info = OrderedDict()
    torch.manual_seed(7)

    mlp = TwinMLP(784, [256, 256, 256], 10)
    to_bf16_precision(mlp)
    x = torch.rand(3, 28, 28, 1)  # HWC images
    io["largemlp.x"] = x
    with torch.no_grad():
        io["largemlp.logits"] = mlp(x.reshape(3, -1))
    info["LargeMLP"] = {"file": "torch_interop_largemlp.safetensors.gz", "floats": write_state("LargeMLP", mlp)}

    cnn = TwinCNN002(1, 10)
    with torch.no_grad():  # the reference's init zeroes these; make them count
        for conv in (m for m in cnn.modules() if isinstance(m, nn.Conv2d)):
            conv.bias.uniform_(-0.1, 0.1)
        cnn.classifier.fc3.weight.uniform_(-0.07, 0.07)
        cnn.classifier.fc3.bias.uniform_(-0.07, 0.07)
    to_bf16_precision(cnn)
    cnn.eval()
    x = torch.rand(3, 1, 28, 28)  # NCHW
    io["cnn002.x"] = x
    with torch.no_grad():
        io["cnn002.logits"] = cnn(x)
    info["CNN002"] = {"file": "torch_interop_cnn002.safetensors.gz", "floats": write_state("CNN002", cnn)}

    res = TwinResNet(3)
    with torch.no_grad():
        for m in res.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        res.train()
        for _ in range(4):  # running statistics that are neither 0/1 nor the test batch's
            res(torch.rand(16, 3, 32, 32) * 1.5 - 0.2)
    to_bf16_precision(res)
    info["ResNet20"] = {"file": "torch_interop_resnet20.safetensors.gz", "floats": write_state("ResNet20", res)}
    x = torch.rand(4, 3, 32, 32)
    io["resnet20.x"] = x
    norm = TwinResNet(3, normalize=True)
    norm.load_state_dict(res.state_dict())
    with torch.no_grad():
        res.eval()
        io["resnet20.logits_eval"] = res(x)
        norm.eval()
        io["resnet20norm02.logits_eval"] = norm(x)
        res.train()
        io["resnet20.logits_train"] = res(x)
    for k, v in res.state_dict().items():
        if k.endswith("running_mean") or k.endswith("running_var"):
            io[f"resnet20.after_train.{k}"] = v.clone()
    write_file("torch_interop_io.safetensors", safetensors_bytes(io, file_metadata("interop inputs and logits")))
    return info


def main():
    torch.set_num_threads(1)
    golden = OrderedDict([("magic", MAGIC), ("version", VERSION), ("generator", GENERATOR), ("torch", torch.__version__)])
    golden["training"] = make_training()
    golden["schedule"] = make_schedule()
    golden["interop"] = make_interop()
    golden["parameterCounts"] = parameter_counts()
    with open(os.path.join(HERE, "torch_train.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
