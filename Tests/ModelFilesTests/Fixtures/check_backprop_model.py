"""Loads a model trained and saved by Backprop into the matching PyTorch module and
compares outputs: the reverse of make_fixtures.py.

    python3 check_backprop_model.py DIRECTORY [TOLERANCE]

DIRECTORY holds Backprop's model.json and model.safetensors and, beside them, input.npy
and output.npy: a batch and Backprop's output for it. The Swift test "trained Backprop
models are written for PyTorch" writes two such directories, mlp and cnn:

    BACKPROP_INTEROP_DIR=/tmp/interop swift test --filter trainedModelsForPyTorch
    python3 check_backprop_model.py /tmp/interop/mlp
    python3 check_backprop_model.py /tmp/interop/cnn

Prints the largest absolute difference; exits 1 above the tolerance (default 1e-5).
"""

import json
import os
import sys

sys.dont_write_bytecode = True

import numpy as np
import torch
from torch import nn

from backprop_files import load_safetensors, module_from_configuration


def main():
    directory = sys.argv[1]
    tolerance = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-5
    with open(os.path.join(directory, "model.json")) as file:
        architecture = json.load(file)
    assert architecture["format"] == "backprop-model", "not a Backprop model.json"
    model = nn.Sequential(*[module_from_configuration(layer) for layer in architecture["layers"]])
    dtype = torch.float64 if architecture["scalarType"] == "float64" else torch.float32
    model = model.to(dtype)
    tensors, _ = load_safetensors(os.path.join(directory, "model.safetensors"))
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [name for name in missing if not name.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"state_dict mismatch: missing {missing}, unexpected {unexpected}")
    model.eval()
    inputs = torch.from_numpy(np.load(os.path.join(directory, "input.npy")))
    expected = np.load(os.path.join(directory, "output.npy"))
    with torch.no_grad():
        outputs = model(inputs.to(dtype)).numpy()
    error = float(np.max(np.abs(outputs - expected)))
    print(f"{directory}: {sum(p.numel() for p in model.parameters())} parameters, "
          f"{len(tensors)} tensors, output {list(outputs.shape)}, max abs error {error:.3g}")
    sys.exit(0 if error <= tolerance else 1)


if __name__ == "__main__":
    main()
