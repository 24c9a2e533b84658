"""W4: the time of one training step when the arithmetic is negligible. The notes'
housing net 4 → 3 ReLU → 1, squared loss, SGD (learning rate 0.01), one example per step.

Data: 1000 examples x ~ N(0, 1)⁴, y = relu(x₀ + x₁) + relu(x₂ + x₃) + 0.1·noise.
A step takes the next example (cycling), runs forward, loss, backward and the update.
2000 untimed steps, then 5 blocks of 5000 (NumPy: 20000) steps; the figure is the
median block's µs per step.
"""
import numpy as np

import common

EXAMPLES, LEARNING_RATE = 1000, 0.01


def data_and_layers():
    generator = np.random.default_rng(common.INIT_SEED)
    x = generator.standard_normal((EXAMPLES, 4), dtype=np.float32)
    noise = generator.standard_normal((EXAMPLES, 1), dtype=np.float32)
    y = np.maximum(x[:, :1] + x[:, 1:2], 0) + np.maximum(x[:, 2:3] + x[:, 3:], 0) + np.float32(0.1) * noise
    return x, y.astype(np.float32), [common.uniform_layer(generator, 4, 3), common.uniform_layer(generator, 3, 1)]


def numpy_step(x, y, layers):
    (w1, b1), (w2, b2) = layers
    rate, two = np.float32(LEARNING_RATE), np.float32(2)

    def step(i):
        inputs, target = x[i:i + 1], y[i:i + 1]
        z1 = inputs @ w1.T + b1
        a1 = np.maximum(z1, np.float32(0))
        delta2 = two * (a1 @ w2.T + b2 - target)
        delta1 = (delta2 @ w2) * (z1 > 0)
        w2[...] -= rate * (delta2.T @ a1); b2[...] -= rate * delta2.sum(axis=0)
        w1[...] -= rate * (delta1.T @ inputs); b1[...] -= rate * delta1.sum(axis=0)

    def mse():
        return float(((np.maximum(x @ w1.T + b1, 0) @ w2.T + b2 - y) ** 2).mean())
    return step, mse


def torch_step(x, y, layers):
    import torch
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    with torch.no_grad():
        for linear, (weight, bias) in zip(model[::2], layers):
            linear.weight.copy_(torch.from_numpy(weight)); linear.bias.copy_(torch.from_numpy(bias))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_function = torch.nn.MSELoss()
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    def step(i):
        optimizer.zero_grad(set_to_none=True)
        loss_function(model(x[i:i + 1]), y[i:i + 1]).backward()
        optimizer.step()

    def mse():
        with torch.inference_mode():
            return float(loss_function(model(x), y))
    return step, mse


def run(tool, options):
    x, y, layers = data_and_layers()
    step, mse = (numpy_step if tool == "numpy" else torch_step)(x, y, layers)
    warm_up, blocks, per_block = (200, 2, 500) if options.quick else (2000, 5, 20000 if tool == "numpy" else 5000)
    before, index = mse(), 0
    for _ in range(warm_up):
        step(index % EXAMPLES); index += 1
    block_us = []
    for _ in range(blocks):
        start = common.now()
        for _ in range(per_block):
            step(index % EXAMPLES); index += 1
        block_us.append((common.now() - start) / per_block * 1e6)
    us_per_step = common.median(block_us)
    return {"us_per_step": us_per_step, "samples_per_s": 1e6 / us_per_step, "min_block_us": min(block_us),
            "us_per_step_blocks": [round(b, 2) for b in block_us], "steps_per_block": per_block,
            "mse_before": before, "mse_after": mse()}
