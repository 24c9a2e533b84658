"""Writes the PyTorch fixtures that Tests/ModelFilesTests load into Backprop models.

Run from this directory:  python3 make_fixtures.py   (torch and numpy; no network)

Each fixture directory holds what Backprop's ModelFile.load reads — model.json (the
architecture) and model.safetensors (the state_dict, written by hand, see
backprop_files.py) — plus input.npy and output.npy: a batch and PyTorch's output for it
(written with numpy.save, so the tests also read real NumPy files).
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ among the fixtures

import numpy as np
import torch
from torch import nn

from backprop_files import architecture_json, save_safetensors, state_dict_for_backprop

HERE = os.path.dirname(os.path.abspath(__file__))


def write_fixture(name, model, inputs, scalar_type, class_names=None):
    model.eval()
    with torch.no_grad():
        outputs = model(inputs)
    directory = os.path.join(HERE, name)
    os.makedirs(directory, exist_ok=True)
    save_safetensors(os.path.join(directory, "model.safetensors"), state_dict_for_backprop(model), {"format": "pt"})
    with open(os.path.join(directory, "model.json"), "w") as file:
        file.write(architecture_json(model, scalar_type, inputs.shape[1:], class_names))
    np.save(os.path.join(directory, "input.npy"), inputs.numpy())
    np.save(os.path.join(directory, "output.npy"), outputs.numpy())
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, input {list(inputs.shape)}, "
          f"output {list(outputs.shape)}")


def main():
    torch.manual_seed(229)

    # A 6 → 5 ReLU → 3 softmax MLP in float32 (the default dtype).
    mlp = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3), nn.Softmax(dim=1))
    write_fixture("mlp", mlp, torch.randn(8, 6), "float32", ["cat", "dog", "bird"])

    # The same kind of network in float64, other activations, logits out, no bias last.
    mlp64 = nn.Sequential(nn.Linear(4, 7), nn.Tanh(), nn.Linear(7, 3), nn.Sigmoid(),
                          nn.Linear(3, 2, bias=False)).double()
    write_fixture("mlp_f64", mlp64, torch.randn(5, 4, dtype=torch.float64), "float64")

    # A small CNN: conv 1→4 3×3 pad 1, batch norm (running statistics from a few
    # training batches), ReLU, max-pool 2, flatten, dense 64 → 3 (logits).
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    cnn.train()
    with torch.no_grad():
        for _ in range(5):
            cnn(torch.randn(16, 1, 8, 8) * 2 + 0.5)
    write_fixture("cnn", cnn, torch.randn(3, 1, 8, 8), "float32")

    # PyTorch's layer options, in float64, on odd-sized 7×7 images: leaky ReLU 0.2,
    # max-pool 2 with padding 1 in ceil mode (⌈(7 + 2 − 2)/2⌉ + 1 = 5 windows, less the
    # last, which would start in the padding: 4), GELU in both forms, average pooling in
    # ceil mode without counting padding, batch norm in 2-D and 1-D (num_batches_tracked
    # 5 after five training batches), log-softmax over the classes.
    options = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
        nn.MaxPool2d(2, padding=1, ceil_mode=True), nn.GELU(approximate="tanh"),
        nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), nn.Flatten(),
        nn.Linear(4 * 3 * 3, 8), nn.BatchNorm1d(8, momentum=0.3), nn.GELU(), nn.Linear(8, 3),
        nn.LogSoftmax(dim=1)).double()
    options.train()
    with torch.no_grad():
        for _ in range(5):
            options(torch.randn(16, 2, 7, 7, dtype=torch.float64) * 1.5 - 0.25)
    write_fixture("options_f64", options, torch.randn(4, 2, 7, 7, dtype=torch.float64), "float64")


if __name__ == "__main__":
    main()
