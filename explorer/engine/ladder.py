"""A ladder: one training setting stepped over a few values, one model per value (a rung), so the
lectures' comparisons (beta 0 to 16, a 2-d code against a 20-d one) are one command. This module
is the ladder's description: its rungs, their names, their files and what each checkpoint records.
It imports neither torch nor Qt, so the parser can use it.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, replace
from pathlib import Path

from explorer.utils.errors import ExplorerError

MIN_RUNGS = 2
MAX_RUNGS = 8  # the compare view shows up to 8 models side by side
EXAMPLE = "beta=0,0.25,1,4,16"
META_KEY = "ladder"  # a rung's checkpoint records {"setting": value} under this key


@dataclass(frozen=True)
class Ladder:
    setting: str  # as on the command line: "beta", "latent-dim"
    dest: str  # the attribute it sets on the parsed arguments: "beta", "latent_dim"
    values: tuple  # ints or floats, as the setting's own option reads them
    default: object = None  # the setting's default: given apart from the ladder, it is a conflict

    def rungs(self) -> list["Rung"]:
        return [Rung(self.setting, self.dest, v) for v in self.values]


@dataclass(frozen=True)
class Rung:
    setting: str
    dest: str
    value: int | float

    @property
    def text(self) -> str:
        """The value as it reads in a name: 0.25, 16 (not 16.0), 1e-05; two values never share one."""
        return value_text(self.value)

    @property
    def label(self) -> str:
        return f"{self.setting}={self.text}"

    def path(self, out: str | Path) -> Path:
        """This rung's checkpoint beside --out: ladder.safetensors -> ladder-beta0.25.safetensors."""
        out = Path(out)
        return out.with_name(f"{out.stem}-{self.setting}{self.text}{out.suffix}")

    def meta(self) -> dict:
        return {self.setting: self.value}


def value_text(value) -> str:
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def rung_of(meta: dict) -> tuple[str, int | float] | None:
    """(setting, value) a checkpoint's metadata records as its rung, or None if it is no rung."""
    recorded = meta.get(META_KEY)
    if not is_rung_record(recorded):
        return None
    return next(iter(recorded.items()))


def rung_order(meta: dict, name: str = "") -> tuple:
    """A sort key that puts the rungs of one ladder in the order of their values (the beta ladder 0,
    0.25, 1, 4, 16, not the file names' 0, 0.25, 1, 16, 4), other models after them by name."""
    rung = rung_of(meta)
    return (0, rung[0], rung[1], name) if rung is not None else (1, "", 0, name)


def natural_order(name: str) -> tuple:
    """A sort key for names by their numbers' values: ladder-beta4 before ladder-beta16."""
    parts = re.split(r"(\d+(?:\.\d+)?(?:e-?\d+)?)", name)
    return tuple((0, float(p), "") if k % 2 else (1, 0.0, p) for k, p in enumerate(parts))


def is_rung_record(value) -> bool:
    """What a checkpoint's `ladder` field may hold: one setting's name and its number."""
    return (isinstance(value, dict) and len(value) == 1 and all(
        isinstance(k, str) and 0 < len(k) <= 40 and isinstance(v, (int, float)) and not isinstance(v, bool)
        and v == v and abs(v) != float("inf") for k, v in value.items()))


def spec_type(options: argparse.ArgumentParser):
    """The type of --ladder for a parser's numeric options: `SETTING=V1,V2,...` read as a Ladder, each
    value checked by the setting's own option (so its range and its message are the option's)."""

    def numeric() -> dict[str, argparse.Action]:
        found = {}
        for action in options._actions:
            long = [o for o in action.option_strings if o.startswith("--")]
            if long and action.type is not None and action.nargs is None and action.choices is None \
                    and action.dest != "ladder":
                found[long[0][2:]] = action
        return found

    def parse(text: str) -> Ladder:
        settings = numeric()
        name, sep, values = text.partition("=")
        name = name.strip().lstrip("-").replace("_", "-")
        if not sep or not name:
            raise argparse.ArgumentTypeError(f"{text!r}: write SETTING=V1,V2,... with one numeric training setting, "
                                             f"e.g. {EXAMPLE}")
        if name not in settings:
            raise argparse.ArgumentTypeError(f"{text!r}: unknown setting {name!r}; a ladder steps one of "
                                             f"{', '.join(sorted(settings))}")
        action = settings[name]
        try:
            parsed = read_values(name, values, action.type)
        except ValueError as e:
            raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None
        return Ladder(name, action.dest, parsed, action.default)

    return parse


def read_values(name: str, text: str, read) -> tuple:
    """The values of a ladder of setting `name` from "V1,V2,...", each read by `read` (which raises
    argparse.ArgumentTypeError or ValueError for a bad one); ValueError says what is wrong."""
    parts = [part.strip() for part in text.split(",")]
    parsed = []
    for part in parts:
        if not part:
            raise ValueError(f"an empty value; separate the values by single commas, e.g. {EXAMPLE}")
        try:
            parsed.append(read(part))
        except (argparse.ArgumentTypeError, ValueError) as e:
            raise ValueError(f"{name} {e}") from None
    if not MIN_RUNGS <= len(parsed) <= MAX_RUNGS:
        few = "one value is one model" if len(parsed) == 1 else f"{len(parsed)} values are too many"
        raise ValueError(f"{few}; a ladder has {MIN_RUNGS} to {MAX_RUNGS} values, e.g. {EXAMPLE}")
    seen = {}
    for part, value in zip(parts, parsed):
        if value in seen:
            raise ValueError(f"{part} is the same {name} as {seen[value]}; each rung needs a value of its own")
        seen[value] = part
    return tuple(parsed)


# where each setting a ladder can step lives in a run's two configs (the window's ladders; the
# command line's come from its options)
CONFIG_FIELDS = {"beta": ("model", "beta"), "latent-dim": ("model", "latent_dim"), "anchor": ("model", "anchor"),
                 "mmd": ("model", "mmd"), "confident": ("model", "confident"), "average": ("model", "average"),
                 "epochs": ("run", "epochs"), "batch-size": ("run", "batch_size"), "lr": ("run", "lr"),
                 "seed": ("run", "seed")}
WHOLE = ("latent-dim", "epochs", "batch-size", "seed")  # the settings that take whole numbers


# the settings only some kinds of model have: a ladder of them for another kind would train one model
# again and again
KINDS = {"beta": ("vae", "cvae"), **dict.fromkeys(("anchor", "mmd", "confident", "average"), ("gan",))}


def refusal(setting: str, kind: str) -> str | None:
    """Why a ladder of `setting` cannot step a model of `kind` (None if it can)."""
    kinds = KINDS.get(setting)
    if kinds is None or kind in kinds:
        return None
    what = "weighs a VAE's KL term" if setting == "beta" else "is a GAN's setting"
    article = "an" if kind == "ae" else "a"
    return (f"{setting} {what}; {article} {kind.upper()} has none to step (choose a "
            f"{' or '.join(k.upper() for k in kinds)}, or step another setting)")


def apply(rung: Rung, model_config, run_config):
    """(model_config, run_config) with the rung's value in its place; the configs check it (ExplorerError)."""
    if (why := refusal(rung.setting, model_config.kind)) is not None:
        raise ExplorerError(why)
    which, field = CONFIG_FIELDS[rung.setting]
    if which == "model":
        changes = {field: rung.value}
        if field == "latent_dim":  # the widths of that size, as a new model of it gets (config.default_widths)
            changes.update(widths=None, decoder_widths=None)
        return replace(model_config, **changes), run_config
    return model_config, replace(run_config, **{field: rung.value})
