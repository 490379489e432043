"""Cache keys (helpers.runtime.keys): every setting counts, keys are stable, versions are per kind.

A key that misses a setting serves a stale artefact; a key that differs between processes
recomputes everything; a probe that rebuilds a key by hand drifts when a default changes. The
tests below check each of these for every key builder, and that no module outside
``helpers/runtime/keys.py`` assembles a key itself.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.runtime import keys
from helpers.runtime.disk_cache import DiskCache, config_key
from helpers.studies import StudyContext, layer_geometry_key, layer_geometry_study

from builders import make_dataset, tiny_profile

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

# one call of every builder (and of both forms of model_key), each with every argument given
CALLS = {
    "hdm05": (keys.hdm05_key, dict(fps=30.0, manifest="m1", asf=["a1"], amc=["c1", "c2"])),
    "dtw": (
        keys.dtw_key,
        dict(data="d1", data_from="sha256", n=10, d=6, window=0.1, normalize=True, band="sakoe"),
    ),
    "features": (
        keys.features_key,
        dict(model="w1", data="d1", config={"length": 12, "center": "first"}, layer=3),
    ),
    "model-profile": (
        keys.model_key,
        dict(dataset="d1", seed=0, profile={"name": "quick", "epochs": 2}, label_seed=None),
    ),
    "model-network": (
        keys.model_key,
        dict(
            dataset="d1",
            seed=0,
            network="CompactGCN",
            model_config={"channels": [8, 8]},
            train={"epochs": 2},
            label_seed=5,
        ),
    ),
    "study": (keys.study_key, dict(study="layer-geometry", dataset="d1", window=0.1, k=10)),
    "transfer-run": (
        keys.transfer_run_key,
        dict(base="w1", target="d2", mode="AnB", k=3, settings={"epochs": 2, "seed": 0}),
    ),
}

# for each builder, each argument and a value other than the one in CALLS
CHANGES = {
    "hdm05": dict(fps=None, manifest="m2", asf=["a2"], amc=["c1"]),
    "dtw": dict(data="d2", data_from="key", n=11, d=7, window=0.2, normalize=False, band="itakura"),
    "features": dict(model="w2", data="d2", config={"length": 16, "center": "first"}, layer=4),
    "model-profile": dict(
        dataset="d2", seed=1, profile={"name": "quick", "epochs": 3}, label_seed=1
    ),
    "model-network": dict(
        dataset="d2",
        seed=1,
        network="OtherGCN",
        model_config={"channels": [8, 16]},
        train={"epochs": 3},
        label_seed=6,
    ),
    "study": dict(study="noise", dataset="d2", window=0.2, k=11),
    "transfer-run": dict(
        base="w2", target="d3", mode="BnB", k=4, settings={"epochs": 2, "seed": 1}
    ),
}


def test_every_argument_of_every_builder_is_varied():
    """CHANGES covers each builder's whole signature (a new argument must be added here)."""
    import inspect

    for name, (builder, kwargs) in CALLS.items():
        params = {
            p.name
            for p in inspect.signature(builder).parameters.values()
            if p.kind is not p.VAR_KEYWORD
        }
        varied = set(CHANGES[name])
        if name == "model-profile":  # the network form's arguments are varied in model-network
            params -= {"network", "model_config", "train"}
        elif name == "model-network":
            params -= {"profile"}
        assert params <= varied, f"{name}: {sorted(params - varied)} never varied"
        assert varied <= set(kwargs), f"{name}: {sorted(varied - set(kwargs))} not in the call"


@pytest.mark.parametrize(
    "name, arg, value",
    [(name, arg, value) for name, change in CHANGES.items() for arg, value in change.items()],
)
def test_changing_any_one_setting_changes_the_key(name, arg, value):
    builder, kwargs = CALLS[name]
    base = builder(**kwargs)
    changed = builder(**{**kwargs, arg: value})
    assert changed != base
    assert config_key(changed) != config_key(base), f"{name}: {arg} does not reach the hash"
    assert config_key(builder(**kwargs)) == config_key(base)  # and the same call, the same key


def test_study_key_counts_a_setting_added_or_removed():
    base = keys.study_key("scaling", "d1", window=0.1)
    assert config_key(keys.study_key("scaling", "d1", window=0.1, k=10)) != config_key(base)
    assert config_key(keys.study_key("scaling", "d1")) != config_key(base)


# --------------------------------------------------------------------------- versions
#: Each version constant and the builders whose keys it must reach (and no other builder's).
VERSIONS = {
    "HDM05_VERSION": {"hdm05"},
    "DTW_VERSION": {"dtw"},
    "FEATURES_VERSION": {"features"},
    "MODELS_VERSION": {"model-profile", "model-network"},
    "STUDIES_VERSION": {"study"},
    "TRANSFER_VERSION": {"transfer-run"},
}


def test_every_version_constant_is_listed():
    names = {n for n in keys.__all__ if n.endswith("_VERSION")}
    assert names == set(VERSIONS)
    assert set().union(*VERSIONS.values()) == set(CALLS)


@pytest.mark.parametrize("constant", sorted(VERSIONS))
def test_each_kind_carries_its_own_version(monkeypatch, constant):
    before = {name: config_key(builder(**kw)) for name, (builder, kw) in CALLS.items()}
    monkeypatch.setattr(keys, constant, getattr(keys, constant) + 1)
    after = {name: config_key(builder(**kw)) for name, (builder, kw) in CALLS.items()}
    changed = {name for name in CALLS if after[name] != before[name]}
    assert changed == VERSIONS[constant]


# --------------------------------------------------------------------------- model_key's forms
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(), "exactly one of profile= and network="),
        (dict(profile={"name": "quick"}, network="CompactGCN"), "exactly one of"),
        (dict(network="CompactGCN", train={"epochs": 2}), "needs model_config= and train="),
        (dict(network="CompactGCN", model_config={"channels": [8]}), "needs model_config="),
    ],
)
def test_model_key_refuses_bad_combinations(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keys.model_key("d1", 0, **kwargs)


def test_a_profiles_model_and_another_network_never_share_a_key():
    a = keys.model_key("d1", 0, profile={"name": "quick"})
    b = keys.model_key("d1", 0, network="STGCN", model_config={"name": "quick"}, train={})
    assert config_key(a) != config_key(b)
    assert "label_seed" not in a  # no label randomisation: the key of a plain training


# --------------------------------------------------------------------------- across processes
_CHILD = """
import json, sys
sys.path[:0] = [{tests!r}, {root!r}]
from builders import make_dataset, tiny_profile
from helpers.runtime.disk_cache import config_key
from helpers.studies import StudyContext, layer_geometry_key
import test_keys

out = {{name: config_key(b(**kw)) for name, (b, kw) in test_keys.CALLS.items()}}
ctx = StudyContext.create(tiny_profile(), make_dataset(n_per_class=2), "cpu", progress=False)
out["ctx-model"] = config_key(ctx.model_key(3, label_seed=1))
out["ctx-study"] = config_key(ctx.study_key("noise", levels=[0.0, 0.1], k=10))
out["layer-geometry"] = config_key(layer_geometry_key(ctx, window=0.2, k=4))
print(json.dumps(out))
"""


def _here() -> dict[str, str]:
    out = {name: config_key(b(**kw)) for name, (b, kw) in CALLS.items()}
    ctx = StudyContext.create(tiny_profile(), make_dataset(n_per_class=2), "cpu", progress=False)
    out["ctx-model"] = config_key(ctx.model_key(3, label_seed=1))
    out["ctx-study"] = config_key(ctx.study_key("noise", levels=[0.0, 0.1], k=10))
    out["layer-geometry"] = config_key(layer_geometry_key(ctx, window=0.2, k=4))
    return out


def test_the_same_settings_give_the_same_key_in_another_process():
    code = _CHILD.format(tests=str(TESTS), root=str(ROOT))
    # another hash seed: a key must not depend on set or dict order of one interpreter
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert child.returncode == 0, child.stderr[-2000:]
    there = json.loads(child.stdout.strip().splitlines()[-1])
    assert there == _here()


# --------------------------------------------------------------------------- probes follow defaults
@pytest.fixture
def ctx():
    return StudyContext.create(tiny_profile(), make_dataset(n_per_class=2), "cpu", progress=False)


def test_layer_geometry_key_fills_in_the_studys_defaults(ctx):
    given = layer_geometry_key(
        ctx, seeds=None, untrained_seeds=(0,), subset="all", window=0.2, k=4, sigma="mean_kth"
    )
    assert layer_geometry_key(ctx, window=0.2, k=4) == given
    assert layer_geometry_key(ctx, window=0.2, k=4, sigma=0.5) != given
    with pytest.raises(TypeError):
        layer_geometry_key(ctx, windw=0.2)  # a misspelt setting is refused, not ignored


@pytest.mark.parametrize(
    "setting, value", [("sigma", 0.5), ("untrained_seeds", (0, 1)), ("subset", "test")]
)
def test_the_own_model_probe_follows_a_changed_default(monkeypatch, ctx, setting, value):
    """own_model_study probes chapter 4's study with ``layer_geometry_key(ctx, window=, k=)``.

    When a default of layer_geometry_study changes, the probe's key changes with it, and is the
    key the study itself stores under.
    """
    before = layer_geometry_key(ctx, window=0.2, k=4)
    defaults = dict(layer_geometry_study.__kwdefaults__)
    monkeypatch.setattr(layer_geometry_study, "__kwdefaults__", {**defaults, setting: value})
    after = layer_geometry_key(ctx, window=0.2, k=4)
    assert config_key(after) != config_key(before)
    assert after == layer_geometry_key(ctx, window=0.2, k=4, **{setting: value})

    stored = []

    def record(self, kind, key, compute, *args, **kwargs):
        stored.append((kind, key))
        return "not computed"

    monkeypatch.setattr(DiskCache, "pickle", record)
    assert layer_geometry_study(ctx, window=0.2, k=4) == "not computed"
    assert stored == [("studies", after)]


def test_the_own_model_study_probes_through_the_key_builders():
    """own_model.py asks "is it cached?" with layer_geometry_key and ctx.model_key, nothing else."""
    source = (ROOT / "helpers" / "studies" / "own_model.py").read_text()
    assert "layer_geometry_key(ctx" in source and "ctx.model_key(" in source


# ------------------------------------------------------------------------ nothing else makes keys
#: Dicts with a "version" entry that are not cache keys: a checkpoint file's format header.
NOT_KEYS = {"helpers/training/checkpoints.py"}
#: DiskCache methods whose second argument is a key.
CACHE_METHODS = {"pickle", "arrays", "get_or_compute", "path"}


def _hand_made_keys(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and k.value == "version" for k in node.keys
        ):
            found.append(f'line {node.lineno}: a dict literal with "version"')
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            args = list(node.args) + [
                kw.value for kw in node.keywords if kw.arg in ("key", "config")
            ]
            literal = [
                a
                for a in args
                if isinstance(a, ast.Dict)
                or (isinstance(a, ast.Call) and getattr(a.func, "id", "") == "dict")
            ]
            kind_given = node.args and isinstance(node.args[0], ast.Constant)
            if name in CACHE_METHODS and kind_given and literal:
                found.append(f"line {node.lineno}: .{name}({node.args[0].value!r}, <a literal>)")
            if name == "config_key" and literal:
                found.append(f"line {node.lineno}: config_key(<a literal>)")
    return found


def test_the_checker_finds_a_hand_made_key(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        'cache.pickle("studies", {"study": "x"}, compute)\n'
        'cache.arrays("dtw", dict(n=3), compute)\n'
        'key = {"data": d, "version": 2}\n'
        "cache.pickle('studies', study_key('x', d), compute)\n"
    )
    assert [f.split(":")[0] for f in _hand_made_keys(bad)] == ["line 1", "line 2", "line 3"]


def test_nothing_outside_runtime_keys_assembles_a_cache_key():
    found = {}
    for path in sorted((ROOT / "helpers").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "helpers/runtime/keys.py":
            continue
        hits = _hand_made_keys(path)
        if rel in NOT_KEYS:
            hits = [h for h in hits if '"version"' not in h]
        if hits:
            found[rel] = hits
    assert found == {}, f"keys built by hand (use helpers.runtime.keys): {found}"
