"""Writes layers/goldens.json: PyTorch's values for single layers with their options,
which Tests/ModelFilesTests/PyTorchLayerTests.swift compares Backprop's layers against.

Run from this directory:  python3 make_layer_goldens.py   (torch; no network)

Each case holds the layer as Backprop's model.json writes it ("layer"), the PyTorch
module it stands for ("module", for reading), a float64 input, the parameters (if the
layer has any), the output (in training mode for batch norm, with the running
statistics and num_batches_tracked after the pass), and the gradients of
sum(output · upstream) for a fixed random `upstream`, with respect to the input and to
each parameter. Everything is float64, so the tests compare to ~1e-12.
"""

import json
import os
import sys

sys.dont_write_bytecode = True

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def values(tensor):
    return [float(v) for v in tensor.detach().reshape(-1).tolist()]


def case(name, layer, module, shape, scale=2.0, special=None, train=False):
    """One golden case: `layer` is Backprop's JSON configuration of `module`."""
    module = module.double()
    module.train(train)
    x = torch.randn(*shape, dtype=torch.float64) * scale
    if special is not None:
        flat = x.reshape(-1)
        flat[:len(special)] = torch.tensor(special, dtype=torch.float64)
    x.requires_grad_(True)
    parameters = {key: value.detach().clone() for key, value in module.named_parameters()}
    y = module(x)
    upstream = torch.randn(*y.shape, dtype=torch.float64)
    (y * upstream).sum().backward()
    result = {
        "name": name, "layer": layer, "module": repr(module),
        "input": {"shape": list(x.shape), "values": values(x)},
        "parameters": {key: values(value) for key, value in parameters.items()},
        "output": {"shape": list(y.shape), "values": values(y)},
        "upstream": values(upstream),
        "inputGradient": values(x.grad),
        "parameterGradients": {key: values(value.grad) for key, value in module.named_parameters()},
        "buffers": {key: values(value) if value.dtype.is_floating_point else int(value)
                    for key, value in module.named_buffers()},
    }
    print(f"{name}: {module} {list(x.shape)} → {list(y.shape)}")
    return result


def main():
    torch.manual_seed(229)
    # Exact zeros test the derivative rules at the kink (PyTorch: slope·g at 0 for the
    # leaky ReLU); large magnitudes test the tails of GELU.
    kinks = [0.0, -0.0, 1.5, -1.5, -6.0, 6.0, -10.0, 10.0]
    cases = [
        case("leakyReLU 0.2", {"activation": {"function": "leakyReLU", "negativeSlope": 0.2}},
             nn.LeakyReLU(0.2), [3, 4, 5], special=kinks),
        case("leakyReLU default", {"activation": {"function": "leakyReLU"}}, nn.LeakyReLU(), [2, 6]),
        case("GELU exact", {"activation": {"function": "gelu", "approximate": "none"}},
             nn.GELU(), [3, 4, 5], special=kinks),
        case("GELU exact by default", {"activation": {"function": "gelu"}}, nn.GELU(), [2, 6]),
        case("GELU tanh", {"activation": {"function": "gelu", "approximate": "tanh"}},
             nn.GELU(approximate="tanh"), [3, 4, 5], special=kinks),
        # Odd sizes, padding 1, ceil mode: across, 9 columns with a 3-wide window at
        # stride 3 give ⌈(9 + 2 − 3)/3⌉ + 1 = 4 windows (the floor gives 3), the last one
        # starting at column 8 and reaching past the padding; down, 7 rows at stride 2.
        case("maxPool2D 3×3 stride (2, 3) padding 1 ceil",
             {"maxPool2D": {"kernelSize": [3, 3], "stride": [2, 3], "padding": [1, 1], "ceilMode": True}},
             nn.MaxPool2d(3, stride=(2, 3), padding=1, ceil_mode=True), [2, 2, 7, 9]),
        case("avgPool2D 3×3 stride (2, 3) padding 1 ceil",
             {"avgPool2D": {"kernelSize": [3, 3], "stride": [2, 3], "padding": [1, 1], "ceilMode": True,
                            "countIncludePad": True}},
             nn.AvgPool2d(3, stride=(2, 3), padding=1, ceil_mode=True), [2, 2, 7, 9]),
        case("avgPool2D 3×3 stride (2, 3) padding 1 ceil, padding not counted",
             {"avgPool2D": {"kernelSize": 3, "stride": [2, 3], "padding": 1, "ceilMode": True,
                            "countIncludePad": False}},
             nn.AvgPool2d(3, stride=(2, 3), padding=1, ceil_mode=True, count_include_pad=False), [1, 2, 7, 9]),
        # A 2×2 window at stride 2 with padding 1 in ceil mode: ⌈(7 + 2 − 2)/2⌉ + 1 = 5
        # rows, less the last, which would start in the right padding (the ceil rule).
        case("maxPool2D 2×2 padding 1 ceil (the last window dropped)",
             {"maxPool2D": {"kernelSize": 2, "padding": 1, "ceilMode": True}},
             nn.MaxPool2d(2, padding=1, ceil_mode=True), [1, 2, 7, 9]),
        case("avgPool2D 2×2 padding 1 ceil (the last window dropped)",
             {"avgPool2D": {"kernelSize": 2, "padding": 1, "ceilMode": True}},
             nn.AvgPool2d(2, padding=1, ceil_mode=True), [1, 2, 7, 9]),
        case("maxPool2D 3×3 stride 2 ceil, no padding",
             {"maxPool2D": {"kernelSize": [3, 3], "stride": [2, 2], "ceilMode": True}},
             nn.MaxPool2d(3, stride=2, ceil_mode=True), [1, 2, 8, 6]),
        case("softmax axis 1", {"activation": {"function": "softmax", "axis": 1}},
             nn.Softmax(dim=1), [2, 3, 4, 5]),
        case("logSoftmax axis 1", {"activation": {"function": "logSoftmax", "axis": 1}},
             nn.LogSoftmax(dim=1), [2, 3, 4, 5]),
        case("logSoftmax last axis", {"activation": {"function": "logSoftmax"}}, nn.LogSoftmax(dim=-1), [3, 7]),
        case("softmax axis -2", {"activation": {"function": "softmax", "axis": -2}},
             nn.Softmax(dim=-2), [2, 3, 4, 5]),
    ]
    batch_norm = nn.BatchNorm2d(3, momentum=0.2, eps=1e-3)
    with torch.no_grad():
        batch_norm.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
        batch_norm.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    cases.append(case("batchNorm2D training step", {"batchNorm2D": {"channels": 3, "momentum": 0.2, "epsilon": 1e-3}},
                      batch_norm, [4, 3, 3, 5], train=True))
    cases.append(case("batchNorm1D training step", {"batchNorm1D": {"features": 4}},
                      nn.BatchNorm1d(4), [6, 4], train=True))
    directory = os.path.join(HERE, "layers")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "goldens.json"), "w") as file:
        # One case a line: small diffs when a case changes.
        lines = ",\n".join(json.dumps(c, separators=(",", ":")) for c in cases)
        file.write(f'{{"torch":"{torch.__version__.split("+")[0]}","cases":[\n{lines}\n]}}\n')


if __name__ == "__main__":
    main()
