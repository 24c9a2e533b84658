"""W1: the notes' MLP, 784 → 300 sigmoid → 10 softmax, W ~ N(0, 1), b = 0, plain
mini-batch SGD (learning rate 5, batch 1000) with an optional L2 penalty λ on the
weights only (gradient += λW), 10 epochs.

train() is also W5's first half: it returns the record and a function giving the
trained model's class probabilities for a batch of images.
"""
import numpy as np

import common
import fashion_mnist
import training

HIDDEN, CLASSES, LEARNING_RATE, BATCH = 300, 10, 5.0, 1000


def initial_layers():
    generator = np.random.default_rng(common.INIT_SEED)
    return [common.normal_layer(generator, 784, HIDDEN), common.normal_layer(generator, HIDDEN, CLASSES)]


def sigmoid(z):
    with np.errstate(over="ignore"):
        return np.float32(1) / (np.float32(1) + np.exp(-z))


def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def softmax(z):
    return np.exp(log_softmax(z))


def train_numpy(x, y, epochs, l2):
    """The written-out backpropagation of the notes: δ² = (p − y)/m, δ¹ = δ²W² ⊙ a(1 − a)."""
    (w1, b1), (w2, b2) = initial_layers()
    rate, penalty = np.float32(LEARNING_RATE), np.float32(l2)
    targets = training.one_hot(y)
    seconds, losses = [], []
    for order in common.permutations(x.shape[0], epochs):
        start_time, total = common.now(), 0.0
        for start in training.batches(x.shape[0], BATCH):
            rows = order[start:start + BATCH]
            inputs, m = x[rows], rows.shape[0]
            hidden = sigmoid(inputs @ w1.T + b1)
            log_probabilities = log_softmax(hidden @ w2.T + b2)
            total -= float(log_probabilities[np.arange(m), y[rows]].sum())
            delta2 = (np.exp(log_probabilities) - targets[rows]) / np.float32(m)
            delta1 = (delta2 @ w2) * hidden * (np.float32(1) - hidden)
            gradient2, gradient1 = delta2.T @ hidden, delta1.T @ inputs
            if penalty:
                gradient2 += penalty * w2; gradient1 += penalty * w1
            w2 -= rate * gradient2; b2 -= rate * delta2.sum(axis=0)
            w1 -= rate * gradient1; b1 -= rate * delta1.sum(axis=0)
        seconds.append(common.now() - start_time)
        losses.append(total / x.shape[0])
    return seconds, losses, lambda images: softmax(sigmoid(images @ w1.T + b1) @ w2.T + b2)


def train_torch(x, y, epochs, l2):
    import torch
    torch.manual_seed(common.INIT_SEED)
    model = torch.nn.Sequential(torch.nn.Linear(784, HIDDEN), torch.nn.Sigmoid(), torch.nn.Linear(HIDDEN, CLASSES))
    linears = [model[0], model[2]]
    with torch.no_grad():
        for linear, (weight, bias) in zip(linears, initial_layers()):
            linear.weight.copy_(torch.from_numpy(weight)); linear.bias.copy_(torch.from_numpy(bias))
    optimizer = torch.optim.SGD([{"params": [l.weight for l in linears], "weight_decay": l2},
                                 {"params": [l.bias for l in linears], "weight_decay": 0.0}], lr=LEARNING_RATE)
    seconds, losses, _ = training.torch_epochs(model, optimizer, torch.from_numpy(x), torch.from_numpy(y),
                                               BATCH, epochs)
    model.eval()
    return seconds, losses, lambda images: torch.softmax(model(images), dim=1)


def train(tool, options, default_epochs=10):
    """Trains W1's model; returns the training record, the predictor and the test set."""
    x_train, y_train, x_test, y_test = fashion_mnist.load()
    epochs = options.epochs or (2 if options.quick else default_epochs)
    train_model = train_numpy if tool == "numpy" else train_torch
    seconds, losses, predict = train_model(x_train, y_train, epochs, options.l2)
    if tool == "torch":
        import torch
        x_test, y_test = torch.from_numpy(x_test), torch.from_numpy(y_test)
        with torch.inference_mode():
            accuracy = int((predict(x_test).argmax(1) == y_test).sum()) / y_test.shape[0]
    else:
        accuracy = int((predict(x_test).argmax(1) == y_test).sum()) / y_test.shape[0]
    steps = len(training.batches(x_train.shape[0], BATCH))
    result = training.record(seconds, losses, x_train.shape[0], BATCH, steps, accuracy)
    result["l2"] = options.l2
    return result, predict, x_test


def run(tool, options):
    return train(tool, options)[0]
