"""Backprop's model files from Python: safetensors written and read by hand (the format
is an 8-byte little-endian header length, a JSON header, then the raw tensor bytes),
the JSON architecture, and PyTorch modules built from it. Used by make_fixtures.py and
check_backprop_model.py; needs only torch and numpy."""

import json
import struct

import numpy as np
import torch
from torch import nn

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}
NUMPY_TYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "|u1"}


def save_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} as safetensors, tensors sorted by name."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        data = tensor.numpy().astype(NUMPY_TYPES[DTYPES[tensor.dtype]], copy=False).tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path):
    """Reads a safetensors file into ({name: tensor}, metadata), checking every offset."""
    with open(path, "rb") as file:
        data = file.read()
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise ValueError(f"{path}: header length {length} is longer than the file")
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    buffer = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        if not 0 <= begin <= end <= len(buffer):
            raise ValueError(f"{path}: tensor {name}: offsets {entry['data_offsets']} out of range")
        array = np.frombuffer(buffer[begin:end], dtype=NUMPY_TYPES[entry["dtype"]]).reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, metadata


ACTIVATIONS = {
    "identity": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
    "leakyReLU": lambda: nn.LeakyReLU(0.01), "gelu": lambda: nn.GELU(approximate="tanh"),
    "softmax": lambda: nn.Softmax(dim=-1),
}


def module_from_configuration(configuration):
    """The PyTorch module for one Backprop LayerConfiguration (a one-key JSON object)."""
    (kind, settings), = configuration.items()
    if kind == "dense":
        return nn.Linear(settings["inputSize"], settings["outputSize"], bias=settings["useBias"])
    if kind == "activation":
        return ACTIVATIONS[settings["function"]]()
    if kind == "dropout":
        return nn.Dropout(settings["probability"])
    if kind == "sequential":
        return nn.Sequential(*[module_from_configuration(layer) for layer in settings["layers"]])
    if kind == "conv2D":
        return nn.Conv2d(settings["inputChannels"], settings["outputChannels"], tuple(settings["kernelSize"]),
                         stride=tuple(settings["stride"]), padding=tuple(settings["padding"]),
                         dilation=tuple(settings["dilation"]), bias=settings["useBias"])
    if kind == "maxPool2D":
        return nn.MaxPool2d(tuple(settings["kernelSize"]), stride=tuple(settings["stride"]))
    if kind == "avgPool2D":
        return nn.AvgPool2d(tuple(settings["kernelSize"]), stride=tuple(settings["stride"]))
    if kind == "globalAveragePool2D":
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if kind == "flatten":
        return nn.Flatten()
    if kind == "batchNorm1D":
        return nn.BatchNorm1d(settings["features"], eps=settings["epsilon"], momentum=settings["momentum"])
    if kind == "batchNorm2D":
        return nn.BatchNorm2d(settings["channels"], eps=settings["epsilon"], momentum=settings["momentum"])
    raise ValueError(f"unknown layer configuration {kind!r}")


def configuration_of(module):
    """The Backprop LayerConfiguration of a PyTorch module (the inverse of the above)."""
    if isinstance(module, nn.Linear):
        return {"dense": {"inputSize": module.in_features, "outputSize": module.out_features,
                          "useBias": module.bias is not None}}
    for name, kind in [("relu", nn.ReLU), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh), ("identity", nn.Identity)]:
        if isinstance(module, kind):
            return {"activation": {"function": name}}
    if isinstance(module, nn.Softmax):
        return {"activation": {"function": "softmax"}}
    if isinstance(module, nn.Dropout):
        return {"dropout": {"probability": module.p}}
    if isinstance(module, nn.Sequential):
        return {"sequential": {"layers": [configuration_of(m) for m in module]}}
    if isinstance(module, nn.Conv2d):
        return {"conv2D": {"inputChannels": module.in_channels, "outputChannels": module.out_channels,
                           "kernelSize": list(module.kernel_size), "stride": list(module.stride),
                           "padding": list(module.padding), "dilation": list(module.dilation),
                           "useBias": module.bias is not None}}
    if isinstance(module, nn.MaxPool2d):
        return {"maxPool2D": {"kernelSize": pair(module.kernel_size), "stride": pair(module.stride)}}
    if isinstance(module, nn.Flatten):
        return {"flatten": {}}
    if isinstance(module, nn.BatchNorm2d):
        return {"batchNorm2D": {"channels": module.num_features, "momentum": module.momentum, "epsilon": module.eps}}
    raise ValueError(f"no Backprop layer for {module}")


def pair(value):
    return list(value) if isinstance(value, (tuple, list)) else [value, value]


def architecture_json(model, scalar_type, input_shape, class_names=None):
    """Backprop's model.json for a PyTorch nn.Sequential."""
    architecture = {"format": "backprop-model", "version": 1, "scalarType": scalar_type,
                    "inputShape": list(input_shape), "layers": [configuration_of(m) for m in model]}
    if class_names is not None:
        architecture["classNames"] = class_names
    return json.dumps(architecture, indent=2, sort_keys=True) + "\n"


def state_dict_for_backprop(model):
    """The state_dict without PyTorch's batch-norm bookkeeping (num_batches_tracked)."""
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
