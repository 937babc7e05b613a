"""Notebook 12's exercises: the references agree with torch and the library, learners' own solutions pass, every
declared mistake is named, and answers of the wrong form are told what to return.

(tests/test_exercises.py runs over the whole registry too: every reference accepted, every declared mistake
rejected, every exercise posed in its notebook.)"""
import math
import numpy as np
import pytest
import torch

from course_lib import distributed, exercises, memory, models
from course_lib.exercises import EXERCISES, nb12
from course_lib.exercises.checking import ExerciseFailed, run_check
from exercise_inputs import correct, told_why, trial_inputs

KEYS = [ex.key for ex in nb12.EXERCISES]


def test_nb12_is_registered():
    assert KEYS == ["12.strides", "12.activation_memory", "12.ddp_batch_and_lr"]
    assert all(EXERCISES[k] is ex for k, ex in zip(KEYS, nb12.EXERCISES))


# ------------------------------------------------------------------ learners' own solutions (no course_lib)

def strides(shape, memory_format):
    n, c, h, w = shape
    if memory_format == "channels_last":
        return (h * w * c, 1, w * c, c)
    return (c * h * w, h * w, w, 1)


def strides_walking_memory(shape, memory_format):
    order = [0, 2, 3, 1] if memory_format == "channels_last" else [0, 1, 2, 3]
    out, step = [0] * 4, 1
    for axis in reversed(order):
        out[axis], step = step, step * shape[axis]
    return out


def strides_from_torch(shape, memory_format):
    fmt = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format
    return torch.empty(shape).contiguous(memory_format=fmt).stride()


def activation_bytes(input_shape, layers, dtype_bytes):
    n, *example = input_shape
    numbers = math.prod(example) + sum(math.prod(shape) for kind, shape in layers if kind != "Flatten")
    return dtype_bytes * n * numbers


def activation_bytes_numpy(input_shape, layers, dtype_bytes):
    kept = [np.prod(input_shape)] + [input_shape[0] * np.prod(s) for t, s in layers if t not in ("Flatten", "Identity")]
    return float(np.sum(kept) * dtype_bytes)


def ddp_batch_and_lr(per_process, world_size, base_lr, base_batch):
    batch = per_process * world_size
    return batch, base_lr * batch / base_batch


@pytest.mark.parametrize("key, answer", [
    ("12.strides", strides), ("12.strides", strides_walking_memory), ("12.strides", strides_from_torch),
    ("12.strides", lambda shape, fmt: np.array(strides(shape, fmt))),             # an array passes too
    ("12.activation_memory", activation_bytes), ("12.activation_memory", activation_bytes_numpy),
    ("12.ddp_batch_and_lr", ddp_batch_and_lr),
    ("12.ddp_batch_and_lr", lambda p, w, lr, b: [p * w, lr * (p * w / b)]),       # a list, the other order of ops
])
def test_a_learners_own_solution_passes(key, answer):
    assert run_check(EXERCISES[key], answer) == correct(key)


def test_check_finds_the_exercises_by_name(capsys):
    exercises.check("12.strides", strides)
    assert "✔ 12.strides: correct" in capsys.readouterr().out
    with pytest.raises(KeyError, match="Did you mean '12.activation_memory'"):
        exercises.check("activation_memory", activation_bytes)


# ------------------------------------------------------------------ the references and the hidden inputs

def test_strides_are_torchs_on_every_input_the_checker_makes():
    rng = np.random.default_rng(0)
    inputs = trial_inputs("12.strides") + [nb12._strides_inputs(rng) for _ in range(40)]
    reference = EXERCISES["12.strides"].reference
    for shape, fmt in inputs:
        x = torch.empty(shape)
        want = x.contiguous(memory_format=torch.channels_last if fmt == "channels_last" else torch.contiguous_format)
        assert tuple(reference(shape, fmt)) == want.stride(), (shape, fmt)


def test_strides_are_checked_in_both_formats_on_shapes_with_four_different_sizes():
    inputs = trial_inputs("12.strides")
    assert {fmt for _, fmt in inputs} == {"contiguous", "channels_last"}
    assert all(len(set(shape)) == 4 and min(shape) > 1 for shape, _ in inputs)


def test_fact_24():
    reference = EXERCISES["12.strides"].reference
    assert reference((2, 3, 4, 5), "contiguous") == [60, 20, 5, 1]
    assert reference((2, 3, 4, 5), "channels_last") == [60, 1, 15, 3]


def test_activation_bytes_are_the_librarys_count_of_every_hidden_stack(monkeypatch):
    built = []
    original = nb12._random_stack
    monkeypatch.setattr(nb12, "_random_stack", lambda rng: built.append(original(rng)) or built[-1])
    inputs = trial_inputs("12.activation_memory")
    reference = EXERCISES["12.activation_memory"].reference
    described = [((shape, nb12._describe_stack(model, shape), b), model) for model, shape, b in built]
    for args in inputs:
        model = next(model for description, model in described if description == args)
        shape, _, dtype_bytes = args
        assert reference(*args) == memory.activation_numbers(model, shape) * dtype_bytes
        assert reference(*args) == memory.training_memory(model, shape, dtype_bytes=dtype_bytes).activations


def test_every_stack_the_checker_can_draw_is_counted_as_the_library_counts_it():
    rng = np.random.default_rng(1)
    for _ in range(100):
        model, shape, dtype_bytes = nb12._random_stack(rng)
        layers = nb12._describe_stack(model, shape)
        assert EXERCISES["12.activation_memory"].reference(shape, layers, dtype_bytes) == \
            memory.activation_numbers(model, shape) * dtype_bytes


@pytest.mark.parametrize("build", [lambda: models.lenet5(backend="torch"), models.digit_cnn])
def test_activation_bytes_are_the_librarys_count_of_the_courses_networks(build):
    model = build()
    reference = EXERCISES["12.activation_memory"].reference
    layers = nb12._describe_stack(model, (512, 1, 28, 28))
    assert reference((512, 1, 28, 28), layers, 4) == memory.training_memory(model, (512, 1, 28, 28)).activations
    assert activation_bytes((512, 1, 28, 28), layers, 4) == reference((512, 1, 28, 28), layers, 4)


def test_lenet5_in_the_hint():
    layers = nb12._describe_stack(models.lenet5(backend="torch"), (512, 1, 28, 28))
    assert EXERCISES["12.activation_memory"].reference((512, 1, 28, 28), layers, 4) == 4 * 512 * 15_386
    assert "4 * 512 * 15,386 = 31.5 MB" in EXERCISES["12.activation_memory"].hint


def test_the_hidden_stacks_hold_flatten_batch_norm_two_conv_blocks_and_each_number_size():
    inputs = trial_inputs("12.activation_memory")
    kinds = [kind for _, layers, _ in inputs for kind, _ in layers]
    assert {"Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Flatten", "Linear"} <= set(kinds)
    assert any(sum(kind == "Conv2d" for kind, _ in layers) == 2 for _, layers, _ in inputs)
    assert {b for *_, b in inputs} == {2, 4, 8}


def test_checking_leaves_torchs_random_state_as_it_was():
    before = torch.random.get_rng_state()
    run_check(EXERCISES["12.activation_memory"], activation_bytes)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_the_ddp_reference_is_the_librarys_and_the_hints_example_holds():
    reference = EXERCISES["12.ddp_batch_and_lr"].reference
    for p, w, lr, b in trial_inputs("12.ddp_batch_and_lr"):
        assert reference(p, w, lr, b) == (distributed.effective_batch(p, w), distributed.scaled_lr(lr, b, p * w))
        assert w > 1 and b not in (p, p * w)          # else scaling by w, or not at all, would be right
    assert reference(32, 8, 0.1, 32) == (256, pytest.approx(0.8))


# ------------------------------------------------------------------ declared mistakes are named

MISTAKES = [(k, m) for k in KEYS for m in EXERCISES[k].mistakes]


@pytest.mark.parametrize("key, mistake", MISTAKES, ids=[f"{k}: {m[:40]}" for k, m in MISTAKES])
def test_every_declared_mistake_is_named_in_the_feedback(key, mistake):
    with pytest.raises(ExerciseFailed) as failure:
        run_check(EXERCISES[key], EXERCISES[key].mistakes[mistake])
    assert f"This looks like a common mistake: {mistake}. Hint:" in str(failure.value)


@pytest.mark.parametrize("key, answer, says", [
    ("12.strides", lambda s, f: (s[1] * s[2] * s[3], s[2] * s[3], s[3], 1),      # the format ignored
     r"(?s)'channels_last'\), 3 of 4 value\(s\) differ.*memory_format ignored: channels_last stores each pixel's C"),
    ("12.strides", lambda s, f: tuple(int(x) for x in torch.empty(s).permute(0, 2, 3, 1).contiguous().stride())
     if f == "channels_last" else strides(s, f), r"listed in memory order N, H, W, C"),
    ("12.strides", lambda s, f: (s[0] * s[1] * s[2] * s[3], *strides(s, f)[:3]) if f == "contiguous" else strides(s, f),
     r"N's stride is one image, C\*H\*W, not the whole batch N\*C\*H\*W"),
    ("12.activation_memory", lambda shape, layers, b: activation_bytes(shape, layers, b) // shape[0],
     r"the batch forgotten: that is one example's activations"),
    ("12.activation_memory", lambda shape, layers, b: b * (math.prod(shape) + shape[0] * sum(
        math.prod(s) for _, s in layers)), r"Flatten counted: its output is a view of its input"),
    ("12.activation_memory", lambda shape, layers, b: 8 * activation_bytes(shape, layers, b),
     r"bits, not bytes: dtype_bytes is already in bytes"),
    ("12.ddp_batch_and_lr", lambda p, w, lr, b: (p // w, lr * (p / w) / b),
     r"(?s)effective_batch: 1 of 1 value\(s\) differ.*the batch divided by the world size"),
    ("12.ddp_batch_and_lr", lambda p, w, lr, b: (p * w, lr * p / b),
     r"(?s)lr: 1 of 1 value\(s\) differ.*scaled by the per-process batch, per_process / base_batch"),
])
def test_a_learners_wrong_answer_is_told_its_reason(key, answer, says):
    told_why(key, answer, says)


def test_a_wrong_answer_that_is_no_declared_mistake_gets_the_values_and_the_hint():
    with pytest.raises(ExerciseFailed) as failure:
        run_check(EXERCISES["12.activation_memory"], lambda shape, layers, b: activation_bytes(shape, layers, b) + 1)
    assert "yours" in str(failure.value) and "common mistake" not in str(failure.value)
    assert "Hint: bytes = dtype_bytes * N * (C*H*W" in str(failure.value)


# ------------------------------------------------------------------ answers of the wrong form

@pytest.mark.parametrize("key, answer, says", [
    ("12.strides", lambda s, f: None, r"your answer is None: your function returned nothing"),
    ("12.strides", lambda s, f: strides(s, f)[:3], r"your answer has shape \(3,\), expected \(4,\)"),
    ("12.strides", lambda s, f: "60, 20, 5, 1", r"a str, cannot be read as numbers: return a list of 4 numbers"),
    ("12.strides", lambda s: strides(s, "contiguous"),
     r"cannot take what the checker passes.*in this order: \(shape, memory_format\)"),
    ("12.activation_memory", lambda shape, layers, b: [activation_bytes(shape, layers, b)],
     r"A single number is expected: take it out with float\(\.\.\.\)"),
    ("12.activation_memory", lambda shape, layers: 0,
     r"cannot take what the checker passes.*in this order: \(input_shape, layers, dtype_bytes\)"),
    ("12.ddp_batch_and_lr", lambda p, w, lr, b: p * w,
     r"return a tuple \(effective_batch, lr\) of 2 results, got a int"),
    ("12.ddp_batch_and_lr", lambda p, w, lr, b: (lr * p * w / b, p * w),
     r"your results are right but in another order: you return \(lr, effective_batch\)"),
    ("12.ddp_batch_and_lr", lambda p, w, lr, b: None, r"your function returned None \(nothing\)"),
])
def test_an_answer_of_the_wrong_form_is_told_what_to_return(key, answer, says):
    with pytest.raises(ExerciseFailed, match=says):
        run_check(EXERCISES[key], answer)


def test_an_answer_that_raises_shows_the_learners_line():
    def unpacks_three(shape, memory_format):
        n, c, hw = shape
        return n, c, hw

    with pytest.raises(ExerciseFailed, match=r"12\.strides: your function raised ValueError: too many values to "
                                             r"unpack.*\n  in unpacks_three, line \d+: n, c, hw = shape\nfor inputs"):
        run_check(EXERCISES["12.strides"], unpacks_three)


def test_a_value_where_a_function_is_expected_is_told_to_pass_the_function():
    with pytest.raises(TypeError, match=r"Pass the function itself.*check\('12\.ddp_batch_and_lr', my_function\)"):
        run_check(EXERCISES["12.ddp_batch_and_lr"], ddp_batch_and_lr(32, 8, 0.1, 32))
