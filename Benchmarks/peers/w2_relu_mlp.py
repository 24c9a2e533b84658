"""W2: 784 → 256 ReLU → 128 ReLU → 10 softmax, cross-entropy, SGD with momentum 0.9
(v ← 0.9v + g, θ ← θ − 0.05v, PyTorch's form), batch 64, 5 epochs. Weights and biases
start from torch.nn.Linear's distribution, drawn by NumPy so both tools start alike.
"""
import numpy as np

import common
import fashion_mnist
import training

SIZES, LEARNING_RATE, MOMENTUM, BATCH = (784, 256, 128, 10), 0.05, 0.9, 64


def initial_layers():
    generator = np.random.default_rng(common.INIT_SEED)
    return [common.uniform_layer(generator, i, o) for i, o in zip(SIZES, SIZES[1:])]


def train_numpy(x, y, epochs, max_steps):
    layers = initial_layers()
    velocities = [(np.zeros_like(w), np.zeros_like(b)) for w, b in layers]
    rate, momentum = np.float32(LEARNING_RATE), np.float32(MOMENTUM)
    targets = training.one_hot(y)
    seconds, losses = [], []

    def forward(inputs):
        activations = [inputs]
        for index, (w, b) in enumerate(layers):
            z = activations[-1] @ w.T + b
            activations.append(np.maximum(z, np.float32(0)) if index < len(layers) - 1 else z)
        return activations

    for order in common.permutations(x.shape[0], epochs):
        start_time, total, seen = common.now(), 0.0, 0
        for start in training.batches(x.shape[0], BATCH, max_steps):
            rows = order[start:start + BATCH]
            m = rows.shape[0]
            activations = forward(x[rows])
            z = activations[-1] - activations[-1].max(axis=1, keepdims=True)
            log_probabilities = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            total -= float(log_probabilities[np.arange(m), y[rows]].sum())
            seen += m
            delta = (np.exp(log_probabilities) - targets[rows]) / np.float32(m)
            for index in reversed(range(len(layers))):
                (w, b), (vw, vb) = layers[index], velocities[index]
                gradient_w, gradient_b = delta.T @ activations[index], delta.sum(axis=0)
                if index > 0:
                    delta = (delta @ w) * (activations[index] > 0)
                vw *= momentum; vw += gradient_w; w -= rate * vw
                vb *= momentum; vb += gradient_b; b -= rate * vb
        seconds.append(common.now() - start_time)
        losses.append(total / seen)
    accuracy = lambda images, labels: float((forward(images)[-1].argmax(1) == labels).mean())
    return seconds, losses, accuracy


def train_torch(x, y, epochs, max_steps):
    import torch
    torch.manual_seed(common.INIT_SEED)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    with torch.no_grad():
        for linear, (weight, bias) in zip(model[::2], initial_layers()):
            linear.weight.copy_(torch.from_numpy(weight)); linear.bias.copy_(torch.from_numpy(bias))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    seconds, losses, _ = training.torch_epochs(model, optimizer, torch.from_numpy(x), torch.from_numpy(y),
                                               BATCH, epochs, max_steps)
    accuracy = lambda images, labels: training.torch_accuracy(model, torch.from_numpy(images), torch.from_numpy(labels))
    return seconds, losses, accuracy


def run(tool, options):
    x_train, y_train, x_test, y_test = fashion_mnist.load()
    epochs = options.epochs or (1 if options.quick else 5)
    max_steps = 50 if options.quick else None
    train_model = train_numpy if tool == "numpy" else train_torch
    seconds, losses, accuracy = train_model(x_train, y_train, epochs, max_steps)
    steps = len(training.batches(x_train.shape[0], BATCH, max_steps))
    return training.record(seconds, losses, x_train.shape[0], BATCH, steps, accuracy(x_test, y_test))
