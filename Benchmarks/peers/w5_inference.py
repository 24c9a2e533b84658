"""W5: W1's model, trained as in W1 (10 epochs), then its class probabilities (softmax
included) for the 10 000 test images: at batch 10 000, one untimed call then the
median of 5; at batch 1, the first 1000 test images one at a time after one untimed
call, the median of 5 timed passes.
"""
import common
import w1_cs229_mlp


def run(tool, options):
    trained, predict, images = w1_cs229_mlp.train(tool, options)
    singles_count = 200 if options.quick else 1000
    if tool == "torch":
        import torch
        context = torch.inference_mode()
    else:
        import contextlib
        context = contextlib.nullcontext()
    with context:
        predict(images)
        calls = []
        for _ in range(5):
            start = common.now(); predict(images); calls.append(common.now() - start)
        singles = [images[i:i + 1] for i in range(singles_count)]
        predict(singles[0])
        passes = []
        for _ in range(5):
            start = common.now()
            for single in singles:
                predict(single)
            passes.append(common.now() - start)
        per_sample = common.median(passes) / singles_count
    batch_call = common.median(calls)
    return {"batch10000_samples_per_s": images.shape[0] / batch_call, "batch10000_ms_per_call": batch_call * 1e3,
            "batch1_us_per_sample": per_sample * 1e6, "batch1_samples_per_s": 1 / per_sample,
            "test_acc": trained["test_acc"], "training_epochs": trained["epochs"]}
