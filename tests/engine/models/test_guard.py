"""The guard where the user's code is called (models/guard.py, through models/adapters.py): a model
that misbehaves after its probe -- in either method, on any call, raising anything or returning
anything unusable -- is one UserModelError naming it and what it did, with its traceback kept, and
the model works again once it behaves."""

import re
import threading

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from explorer.data import arrays
from explorer.engine import coding
from explorer.engine.models import guard
from explorer.engine.models.adapters import adapt
from explorer.latent import geometry
from explorer.utils.errors import ExplorerError, UserModelError

IMAGES = arrays.images(torch.rand(8, 1, 12, 12))

class Unprintable(Exception):
    def __str__(self):
        raise SystemExit("their __str__ exits")


RAISES = {
    "ValueError": lambda: ValueError("their message"),
    "Unprintable": lambda: Unprintable(),
    "SystemExit": lambda: SystemExit(3),
    "KeyboardInterrupt": lambda: KeyboardInterrupt(),
    "GeneratorExit": lambda: GeneratorExit(),
    "RecursionError": lambda: RecursionError("maximum recursion depth exceeded"),
    "ExplorerError": lambda: ExplorerError("theirs, though it looks like ours"),
}


def returns(kind: str, good: torch.Tensor):
    """Something unusable in place of `good` (the method's real answer for n inputs)."""
    n = len(good)
    return {
        "None": None,
        "tuple of three": (good, good, good),
        "list": good.tolist(),
        "numpy": good.numpy(),
        "scalar": torch.tensor(1.0),
        "one fewer": good[: n - 1],
        "one more": torch.cat([good, good[:1]]),
        "flat": good.reshape(-1),
        "wider": torch.cat([good, good], dim=1),
        "NaN": torch.full_like(good, float("nan")),
        "one inf": torch.cat([good[:-1], torch.full_like(good[-1:], float("inf"))]),
        "complex": good.to(torch.complex64),
    }[kind]


class Misbehaving(nn.Module):
    """A small autoencoder (12x12 images, 2-d codes) whose `method` misbehaves on its `on`-th call
    after arming (so after the probe), then behaves again."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(144, 2))
        self.dec = nn.Sequential(nn.Linear(2, 144), nn.Sigmoid())
        self.fault = None  # (method, "raise"|"return", what, on)
        self.calls = {"encode": 0, "decode": 0}

    def arm(self, method, how, what, on):
        self.fault, self.calls = (method, how, what, on), {"encode": 0, "decode": 0}

    def _misbehave(self, method, good_fn, x):
        self.calls[method] += 1
        if self.fault is None or self.fault[0] != method or self.calls[method] != self.fault[3]:
            return good_fn(x)
        _, how, what, _ = self.fault
        if how == "raise":
            raise RAISES[what]()
        return returns(what, good_fn(x))

    def encode(self, x):
        return self._misbehave("encode", self.enc, x)

    def decode(self, z):
        return self._misbehave("decode", lambda z: self.dec(z).reshape(-1, 1, 12, 12), z)


def run_everything(model):
    """What the CLI and the window run on a model, three times over: its statistics, the codes of the
    images, a grid and one point decoded."""
    for _ in range(3):
        stats = coding.infer_stats(model, IMAGES)
        coding.embed(model, IMAGES)
        coding.decode(model, stats.plane().to_latent(geometry.grid_coords(3, stats.bounds)))
        coding.decode(model, np.zeros((1, 2)))


faults = st.one_of(
    st.tuples(st.sampled_from(["encode", "decode"]), st.just("raise"), st.sampled_from(sorted(RAISES)),
              st.integers(1, 3)),
    st.tuples(st.sampled_from(["encode", "decode"]), st.just("return"),
              st.sampled_from(["None", "tuple of three", "list", "numpy", "scalar", "one fewer", "one more", "flat",
                               "wider", "NaN", "one inf", "complex"]), st.integers(1, 3)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fault=faults)
def test_any_misbehaviour_after_the_probe_is_one_error_naming_the_model_and_the_model_recovers(fault):
    torch_model = Misbehaving()
    model = adapt(torch_model, images=IMAGES, name="StudentAE")
    torch_model.arm(*fault)
    method, how, what, on = fault
    with pytest.raises(UserModelError) as caught:
        run_everything(model)
    message = str(caught.value)
    assert message.startswith("StudentAE's " + ("encoder" if method == "encode" else "decoder")), message
    assert "\n" not in message and "bug" not in message
    if how == "raise":
        assert what in message and "your model's code" in message
        details = caught.value.details
        assert details.startswith("Traceback") and f"raise RAISES[what]()" in details and what in details
        assert "explorer/models/" not in details  # their frames, from their method down
    else:
        assert caught.value.details == ""
    torch_model.fault = None  # it behaves again: the guard and its helper thread are still there
    run_everything(model)


def test_a_vae_encoder_returning_a_nan_log_variance_or_a_mismatched_one_is_refused():
    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.dec = nn.Linear(144, 4), nn.Linear(2, 144)
            self.logvar = None

        def encode(self, x):
            mu, logvar = self.enc(x.flatten(1)).chunk(2, dim=1)
            return mu, logvar if self.logvar is None else self.logvar(logvar)

        def decode(self, z):
            return torch.sigmoid(self.dec(z))

    vae = VAE()
    model = adapt(vae, images=IMAGES)
    for broken, says in ((lambda lv: lv * float("nan"), "with NaN"),
                         (lambda lv: lv[:, :1], r"log-variance of shape \(8, 1\)")):
        vae.logvar = broken
        with pytest.raises(UserModelError, match=says):
            coding.sample_posterior(model, IMAGES)


def test_the_factory_and_the_import_are_guarded_too(tmp_path):
    from explorer.engine import user_code

    (tmp_path / "m.py").write_text("import sys\ndef quits():\n    sys.exit('bye')\n"
                                   "def interrupted():\n    raise KeyboardInterrupt\n")
    (tmp_path / "exits_on_import.py").write_text("raise SystemExit(4)\n")
    for name, says in (("quits", "quits() raised SystemExit: bye"), ("interrupted", "interrupted() raised "
                                                                                   "KeyboardInterrupt")):
        with pytest.raises(UserModelError, match=re.escape(says)) as caught:
            user_code.load_model(f"{tmp_path / 'm.py'}:{name}")
        assert "Traceback" in caught.value.details
    with pytest.raises(UserModelError, match="importing it raised SystemExit: 4"):
        user_code.load_model(f"{tmp_path / 'exits_on_import.py'}:X")


def test_a_call_that_does_not_answer_is_said_and_a_watch_can_give_up(monkeypatch):
    monkeypatch.setattr(guard, "ANSWER_WITHIN", 0.2)
    release = threading.Event()
    door = guard.Guard("Slow")
    said, asked = [], []

    def give_up(stuck):
        asked.append(stuck)
        return stuck and len(said) > 0

    try:
        with guard.watching(guard.Watch(on_slow=said.append, give_up=give_up)), pytest.raises(guard.Abandoned):
            door.call(release.wait, what="Slow's decoder")
        assert len(said) == 1 and said[0].startswith("Slow's decoder has not answered for 0.2 s")
        assert asked[0] is False and asked[-1] is True
        # the next call from this thread queues behind the stuck one: one thread per hung model, not one per call
        helpers = [t for t in threading.enumerate() if t.name == "your model Slow"]
        assert len(helpers) == 1
        late, slow = [], []
        releaser = threading.Timer(1.0, release.set)  # the stuck call ends in a second
        releaser.start()
        with guard.watching(guard.Watch(on_slow=slow.append, on_late=late.append)):
            assert door.call(lambda: "second", what="Slow's decoder") == "second"  # after the stuck one
        assert release.is_set()  # it did wait behind the stuck call, on the same helper
        assert [t.name for t in threading.enumerate()].count("your model Slow") == 1
        assert len(slow) == 1 and len(late) == 1 and late[0].startswith("Slow's decoder answered after")
    finally:
        release.set()


def test_the_callers_grad_and_inference_modes_go_with_the_call():
    door = guard.Guard("Modes")
    with torch.inference_mode():
        assert door.call(torch.is_inference_mode_enabled, what="x") is True
    with torch.no_grad():
        assert door.call(torch.is_grad_enabled, what="x") is False
    assert door.call(torch.is_grad_enabled, what="x") is True

