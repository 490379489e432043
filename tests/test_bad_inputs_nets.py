"""Bad inputs at the model's door and at Grad-CAM's: one clear error that names the argument.

Every case is ``(id, call, error type, regex)``: ``call()`` must raise exactly that type, with
a message matching the regex, which names the argument as the caller wrote it (ValueError for a
bad value or shape, TypeError for a wrong type). The models are tiny (a 5-joint chain, one or
two narrow blocks), so the whole table runs in seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from helpers.explain.checks import (
    cascading_randomization,
    map_agreement,
    randomize_from,
)
from helpers.explain.gradcam import dataset_gradcam, gradcam_pass, layer_gradcam
from helpers.nets.block_model import BlockwiseModel
from helpers.nets.compact_gcn import CompactGCN
from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.nets.stgcn import STGCN
from helpers.runtime.arguments import ArgumentTypeError
from helpers.training.config import TrainConfig
from helpers.training.inputs import model_inputs

from builders import CHAIN, K, T, V, make_dataset

GRAPH = SkeletonGraph(V, CHAIN, center=0)
NATURAL = TrainConfig(clip_mode="natural", eval_mode="natural", center="first", epochs=1)


def tiny(**kwargs) -> STGCN:
    """A two-block STGCN of width 1/8 on the 5-joint chain (eval mode)."""
    args = dict(num_classes=K, graph=GRAPH, width=0.125, num_blocks=2, random_state=0)
    args.update(kwargs)
    return STGCN(**args).eval()


class Pointwise(nn.Module):
    """Two 1x1 blocks and a mean over frames and joints; its forward takes no ``lengths``.

    With 1x1 convolutions the valid frames' activations do not depend on the padding, so a
    padded clip's Grad-CAM differs from the clip's own only through the mean's 1/T (instead of
    1/L): the map of a clip of L frames padded to T comes out L/T times too small.
    """

    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Conv2d(4, 6, 1))
        self.head = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.blocks[0](x[..., 0]))
        h = torch.relu(self.blocks[1](h))
        return self.head(h.mean(dim=(2, 3)))


def pointwise_wrapped(seed: int = 0) -> BlockwiseModel:
    torch.manual_seed(seed)
    net = Pointwise().eval()
    return BlockwiseModel(net, "blocks", strides=[1, 1], channels=[4, 6], classifier="head")


MODEL = tiny()
ONE_BLOCK = tiny(num_blocks=1)
WRAPPED = pointwise_wrapped()
X = torch.randn(3, 3, T, V, 1, generator=torch.Generator().manual_seed(0))


def _with(value: float) -> torch.Tensor:
    """X with one coordinate set to ``value``."""
    x = X.clone()
    x[1, 2, 5, 3, 0] = value
    return x


def _training(model: STGCN) -> STGCN:
    return model.train()


def _state_with(key: str, value: float) -> dict:
    state = {k: v.clone() for k, v in MODEL.state_dict().items()}
    state[key].view(-1)[0] = value
    return state


# --------------------------------------------------------------------------- the table
CASES = [
    # STGCN(...): types and signs
    (
        "num_classes=0",
        lambda: tiny(num_classes=0),
        ValueError,
        r"num_classes=-?\d+: expected an integer >= 1",
    ),
    (
        "num_classes=-1",
        lambda: tiny(num_classes=-1),
        ValueError,
        r"num_classes=-?\d+: expected an integer >= 1",
    ),
    (
        "num_classes=2.5",
        lambda: tiny(num_classes=2.5),
        TypeError,
        r"num_classes=.+: expected an integer >= 1",
    ),
    (
        "num_classes='10'",
        lambda: tiny(num_classes="10"),
        TypeError,
        r"num_classes=.+: expected an integer >= 1",
    ),
    (
        "num_classes=True",
        lambda: tiny(num_classes=True),
        TypeError,
        r"num_classes=.+: expected an integer >= 1",
    ),
    (
        "in_channels=0",
        lambda: tiny(in_channels=0),
        ValueError,
        r"in_channels=0: expected an integer >= 1",
    ),
    (
        "in_channels=2.5",
        lambda: tiny(in_channels=2.5),
        TypeError,
        r"in_channels=2\.5: expected an integer >= 1",
    ),
    ("width=0", lambda: tiny(width=0), ValueError, r"width=-?[\d.]+: expected a finite number > 0"),
    (
        "width=-1",
        lambda: tiny(width=-1.0),
        ValueError,
        r"width=-?[\d.]+: expected a finite number > 0",
    ),
    (
        "width=inf",
        lambda: tiny(width=math.inf),
        ValueError,
        r"width=inf: expected a finite number > 0",
    ),
    (
        "width=nan",
        lambda: tiny(width=math.nan),
        ValueError,
        r"width=nan: expected a finite number > 0",
    ),
    ("width='1'", lambda: tiny(width="1"), TypeError, r"width='1': expected a finite number > 0"),
    (
        "num_blocks=0",
        lambda: tiny(num_blocks=0),
        ValueError,
        r"num_blocks=0: expected an integer >= 1",
    ),
    (
        "num_blocks=11",
        lambda: tiny(num_blocks=11),
        ValueError,
        r"num_blocks=11: expected an integer in \[1, 10\]",
    ),
    (
        "num_blocks=2.5",
        lambda: tiny(num_blocks=2.5),
        TypeError,
        r"num_blocks=2\.5: expected an integer",
    ),
    ("temporal_kernel=8", lambda: tiny(temporal_kernel=8), ValueError, r"temporal_kernel.*odd"),
    (
        "temporal_kernel=0",
        lambda: tiny(temporal_kernel=0),
        ValueError,
        r"temporal_kernel=-?\d: expected an integer >= 1",
    ),
    (
        "temporal_kernel=-1",
        lambda: tiny(temporal_kernel=-1),
        ValueError,
        r"temporal_kernel=-?\d: expected an integer >= 1",
    ),
    (
        "temporal_kernel=3.0",
        lambda: tiny(temporal_kernel=3.0),
        TypeError,
        r"temporal_kernel=3\.0: expected an integer",
    ),
    (
        "dropout=1",
        lambda: tiny(dropout=1.0),
        ValueError,
        r"dropout=.+: expected a finite number in \[0\.0, 1\.0\)",
    ),
    (
        "dropout=-0.1",
        lambda: tiny(dropout=-0.1),
        ValueError,
        r"dropout=.+: expected a finite number in \[0\.0, 1\.0\)",
    ),
    (
        "dropout=nan",
        lambda: tiny(dropout=math.nan),
        ValueError,
        r"dropout=.+: expected a finite number in \[0\.0, 1\.0\)",
    ),
    (
        "dropout='0.5'",
        lambda: tiny(dropout="0.5"),
        TypeError,
        r"dropout='0\.5': expected a finite number",
    ),
    (
        "strategy=?",
        lambda: STGCN(K, strategy="spectral"),
        ValueError,
        r"strategy='spectral': expected one of",
    ),
    ("strategy=1", lambda: STGCN(K, strategy=1), TypeError, r"strategy must be a str"),
    ("layout=?", lambda: STGCN(K, layout="coco"), ValueError, r"unknown layout 'coco'"),
    ("layout=3", lambda: STGCN(K, layout=3), TypeError, r"layout must be.*SkeletonGraph"),
    ("graph='x'", lambda: tiny(graph="x"), TypeError, r"graph must be a SkeletonGraph"),
    (
        "edge_importance",
        lambda: tiny(edge_importance="yes"),
        TypeError,
        r"edge_importance must be True or False",
    ),
    (
        "init=?",
        lambda: tiny(init="xavier"),
        ValueError,
        r"init='xavier': expected one of",
    ),
    (
        "random_state=1.5",
        lambda: tiny(random_state=1.5),
        TypeError,
        r"random_state=[\d.]+: expected an integer",
    ),
    ("schedule=5", lambda: tiny(schedule=5), TypeError, r"schedule must be a sequence"),
    ("schedule=[]", lambda: tiny(schedule=[]), ValueError, r"schedule must be a non-empty"),
    ("schedule=[(4,)]", lambda: tiny(schedule=[(4,)]), ValueError, r"schedule\[0\] must be a"),
    ("schedule stride", lambda: tiny(schedule=[(4, 1.5)]), TypeError, r"schedule\[0\]\[1\].*int"),
    ("schedule ch 0", lambda: tiny(schedule=[(0, 1)]), ValueError, r"schedule\[0\]\[0\].*>= 1"),
    # forward: x
    ("x list", lambda: MODEL(X.tolist()), TypeError, r"x must be a torch\.Tensor"),
    ("x 4-D", lambda: MODEL(X[..., 0]), ValueError, r"x must be shaped \(N, C, T, V, M\)"),
    ("x C=2", lambda: MODEL(X[:, :2]), ValueError, r"x has C=2 coordinates.*C=3"),
    ("x V=4", lambda: MODEL(X[:, :, :, :4]), ValueError, r"x has .*V=4 joints.*V=5"),
    ("x N=0", lambda: MODEL(X[:0]), ValueError, r"x has no clips \(N = 0\)"),
    ("x M=0", lambda: MODEL(X[..., :0]), ValueError, r"x has no bodies \(M = 0\)"),
    ("x T=0", lambda: MODEL(X[:, :, :0]), ValueError, r"x has no frames \(T = 0\)"),
    ("x int", lambda: MODEL(X.long()), TypeError, r"x must hold floating-point.*int64"),
    ("x bool", lambda: MODEL(X > 0), TypeError, r"x must hold floating-point.*bool"),
    ("x NaN", lambda: MODEL(_with(math.nan)), ValueError, r"x holds 1 NaN or infinite"),
    ("x inf", lambda: MODEL(_with(math.inf)), ValueError, r"x holds 1 NaN or infinite"),
    # forward: lengths
    ("lengths short", lambda: MODEL(X, lengths=[T]), ValueError, r"lengths must be \(N,\) = \(3,"),
    ("lengths 2-D", lambda: MODEL(X, lengths=[[T]] * 3), ValueError, r"lengths must be \(N,\)"),
    ("lengths 0", lambda: MODEL(X, lengths=[0, T, T]), ValueError, r"lengths must lie in 1\.\.T"),
    ("lengths > T", lambda: MODEL(X, lengths=[T + 1, 3, 3]), ValueError, r"lengths.*1\.\.T = 1"),
    ("lengths 2.5", lambda: MODEL(X, lengths=[2.5, 3, 3]), ValueError, r"lengths.*integer"),
    ("lengths str", lambda: MODEL(X, lengths="abc"), TypeError, r"lengths must be a sequence"),
    ("lengths None", lambda: MODEL(X, lengths=[None] * 3), TypeError, r"lengths must be a seq"),
    ("lengths ragged", lambda: MODEL(X, lengths=[[1], 2, 3]), ValueError, r"lengths must be"),
    # forward: a batch of one in training mode
    (
        "train N*M*T=1",
        lambda: _training(tiny())(X[:1, :, :1]),
        ValueError,
        r"batch of one.*cannot be trained with batch statistics.*model\.eval\(\)",
    ),
    (
        "train lengths=[1]",
        lambda: _training(tiny())(X[:1], lengths=[1]),
        ValueError,
        r"batch of one.*cannot be trained with batch statistics",
    ),
    # weights
    ("state_dict list", lambda: tiny().load_state_dict([1, 2]), TypeError, r"state_dict must be"),
    (
        "state_dict NaN",
        lambda: tiny().load_state_dict(_state_with("fcn.weight", math.nan)),
        ValueError,
        r"state_dict holds NaN or infinite values in fcn\.weight",
    ),
    (
        "state_dict inf",
        lambda: tiny().load_state_dict(_state_with("data_bn.running_var", math.inf)),
        ValueError,
        r"state_dict holds NaN or infinite values in data_bn\.running_var",
    ),
    (
        "reference state",
        lambda: tiny().load_reference_state_dict(5),
        TypeError,
        r"state must be a state dict",
    ),
    (
        "reference path",
        lambda: STGCN.from_reference_checkpoint([1, 2]),
        TypeError,
        r"path_or_state_dict must be a path or a state dict",
    ),
    (
        "reference num_classes",
        lambda: STGCN.from_reference_checkpoint(MODEL.state_dict(), num_classes=2.5),
        TypeError,
        r"num_classes=.+: expected an integer >= 1",
    ),
    # the other entry points of STGCN
    (
        "freeze 2.5",
        lambda: tiny().freeze_blocks(2.5),
        TypeError,
        r"count=.+: expected an integer in \[0, 2\]",
    ),
    (
        "freeze '1'",
        lambda: tiny().freeze_blocks("1"),
        TypeError,
        r"count=.+: expected an integer in \[0, 2\]",
    ),
    (
        "freeze -1",
        lambda: tiny().freeze_blocks(-1),
        ValueError,
        r"count=-1: expected an integer in \[0, 2\]",
    ),
    (
        "replace 2.5",
        lambda: tiny().replace_classifier(2.5),
        TypeError,
        r"num_classes=2\.5: expected an integer",
    ),
    (
        "replace 0",
        lambda: tiny().replace_classifier(0),
        ValueError,
        r"num_classes=-?\d+: expected an integer >= 1",
    ),
    (
        "replace seed",
        lambda: tiny().replace_classifier(2, 0.5),
        TypeError,
        r"random_state=0\.5: expected an integer",
    ),
    ("temporal 2.5", lambda: MODEL.temporal_lengths([2.5]), ValueError, r"lengths.*integer"),
    ("temporal 0", lambda: MODEL.temporal_lengths([0, 3]), ValueError, r"lengths must be >= 1"),
    (
        "shapes T=2.5",
        lambda: MODEL.block_output_shapes(2.5),
        TypeError,
        r"T=2\.5: expected an integer >= 1",
    ),
    ("summary T=0", lambda: MODEL.summary(T=0), ValueError, r"T=0: expected an integer >= 1"),
    # the wrapper and the second network
    ("wrapped x list", lambda: WRAPPED(X.tolist()), TypeError, r"x must be a torch\.Tensor"),
    ("wrapped x N=0", lambda: WRAPPED(X[:0]), ValueError, r"x has no clips \(N = 0\)"),
    ("wrapped lengths", lambda: WRAPPED.temporal_lengths([2.5]), ValueError, r"lengths.*integer"),
    (
        "wrapped strides",
        lambda: BlockwiseModel(Pointwise(), "blocks", strides=[1.5, 1], channels=[4, 6]),
        TypeError,
        r"strides\[0\]=1\.5: expected an integer >= 1",
    ),
    (
        "compact num_classes",
        lambda: CompactGCN(3, 2.5, V, CHAIN),
        TypeError,
        r"num_classes=.+: expected an integer >= 1",
    ),
    ("compact x NaN", lambda: CompactGCN(3, K, V, CHAIN)(_with(math.nan)), ValueError, r"x holds"),
    # Grad-CAM: a padded clip on a model whose forward takes no lengths
    (
        "gradcam no lengths",
        lambda: layer_gradcam(WRAPPED, X, 2, 0, lengths=[T - 4, T, T]),
        ValueError,
        r"forward takes no lengths.*padded.*unpadded",
    ),
    # Grad-CAM: target, layer, lengths, x
    ("gradcam target K", lambda: layer_gradcam(MODEL, X, 1, K), ValueError, r"target holds"),
    ("gradcam target 1.5", lambda: layer_gradcam(MODEL, X, 1, 1.5), ValueError, r"target must"),
    ("gradcam target [0,1]", lambda: layer_gradcam(MODEL, X, 1, [0, 1]), ValueError, r"target"),
    ("gradcam layer 3", lambda: layer_gradcam(MODEL, X, 3), ValueError, r"layer must be.*1\.\.2"),
    ("gradcam lengths", lambda: layer_gradcam(MODEL, X, 1, lengths=[T]), ValueError, r"lengths"),
    (
        "gradcam wrapped lengths",
        lambda: layer_gradcam(WRAPPED, X, 1, lengths=[T]),
        ValueError,
        r"lengths must be \(N,\) = \(3,\)",
    ),
    ("gradcam N=0", lambda: layer_gradcam(WRAPPED, X[:0], 1), ValueError, r"x has no clips"),
    ("gradcam NaN", lambda: layer_gradcam(WRAPPED, _with(math.nan), 1), ValueError, r"x holds 1"),
    ("gradcam upsample", lambda: layer_gradcam(MODEL, X, 1, upsample="no"), TypeError, "upsample"),
    ("pass layers [0]", lambda: gradcam_pass(MODEL, X, [0]), ValueError, r"layers must be"),
    ("pass layers [5]", lambda: gradcam_pass(MODEL, X, [5]), ValueError, r"layers must be"),
    # the sanity checks
    ("cascade target K", lambda: cascading_randomization(MODEL, X, target=K), ValueError, "target"),
    (
        "cascade target 1.5",
        lambda: cascading_randomization(MODEL, X, target=1.5),
        ValueError,
        r"target must be a class index",
    ),
    (
        "cascade target [0]",
        lambda: cascading_randomization(MODEL, X, target=[0]),
        ValueError,
        r"target must be a class index or \(N,\) = \(3,\)",
    ),
    (
        "cascade layer 3",
        lambda: cascading_randomization(MODEL, X, layer=3),
        ValueError,
        r"layer must be",
    ),
    (
        "cascade lengths",
        lambda: cascading_randomization(MODEL, X, lengths=[T]),
        ValueError,
        r"lengths must be \(N,\) = \(3,\)",
    ),
    (
        "cascade random_state",
        lambda: cascading_randomization(MODEL, X, random_state=1.5),
        TypeError,
        r"random_state=[\d.]+: expected an integer",
    ),
    ("agree target K", lambda: map_agreement(MODEL, MODEL, X, target=K), ValueError, "target"),
    ("agree target [0]", lambda: map_agreement(MODEL, MODEL, X, target=[0]), ValueError, "target"),
    ("agree layer 3", lambda: map_agreement(MODEL, MODEL, X, layer=3), ValueError, r"layer must"),
    (
        "agree lengths",
        lambda: map_agreement(MODEL, MODEL, X, lengths=[T]),
        ValueError,
        r"lengths must be \(N,\) = \(3,\)",
    ),
    (
        "agree other None",
        lambda: map_agreement(MODEL, None, X),
        TypeError,
        r"map_agreement: other must be a block model",
    ),
    (
        "agree other fewer blocks",
        lambda: map_agreement(MODEL, ONE_BLOCK, X),
        ValueError,
        r"other has 1 block.*layer 2",
    ),
    (
        "randomize 0",
        lambda: randomize_from(MODEL, 0),
        ValueError,
        r"block=0: expected an integer in \[1, 3\]",
    ),
    (
        "randomize 2.5",
        lambda: randomize_from(MODEL, 2.5),
        TypeError,
        r"block=.+: expected an integer in \[1, 3\]",
    ),
    (
        "randomize '2'",
        lambda: randomize_from(MODEL, "2"),
        TypeError,
        r"block=.+: expected an integer in \[1, 3\]",
    ),
    (
        "randomize True",
        lambda: randomize_from(MODEL, True),
        TypeError,
        r"block=.+: expected an integer in \[1, 3\]",
    ),
    (
        "randomize random_state",
        lambda: randomize_from(MODEL, 1, random_state=0.5),
        TypeError,
        r"random_state=[\d.]+: expected an integer",
    ),
    (
        "dataset batch_size",
        lambda: dataset_gradcam(MODEL, make_dataset(2), config=NATURAL, batch_size=0),
        ValueError,
        r"batch_size=0: expected an integer >= 1",
    ),
]


@pytest.mark.parametrize("call,error,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        call()
    # not a subclass that happens to match, except the shared wrong-type error, which is a
    # TypeError (and a ValueError, for callers that caught those before)
    assert type(info.value) is error or (
        error is TypeError and type(info.value) is ArgumentTypeError
    )


def test_case_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


# --------------------------------------------------------------------------- conversions
def test_float64_inputs_are_converted_to_the_model_dtype():
    model = tiny()
    x = X.double()
    with torch.no_grad():
        expected = model(x.float())
        torch.testing.assert_close(model(x), expected, rtol=0, atol=0)
        # and a float64 model takes float32 inputs (converted up)
        torch.testing.assert_close(model.double()(X), model(X.double()), rtol=0, atol=0)


def test_a_batch_of_one_clip_of_several_frames_still_trains():
    # BatchNorm takes its statistics over frames (and joints) as well as clips: one clip of
    # several frames is a valid training batch, only a single value per channel is not
    model = tiny().train()
    model(X[:1]).sum().backward()
    model(X[:1], lengths=[2]).sum().backward()


# --------------------------------------------------------------------------- Grad-CAM scale
class IgnoresLengths(Pointwise):
    """Takes ``lengths`` and ignores them: what a padded clip gets from a model without them."""

    def forward(self, x: torch.Tensor, lengths=None) -> torch.Tensor:
        return super().forward(x)


def test_padded_clip_on_a_model_without_lengths_is_refused():
    """Its map would be L/T times the clip's own: the model's mean runs over T frames, not L."""
    model = pointwise_wrapped()
    length, frames = 16, 20
    x = torch.zeros(1, 3, frames, V, 1)
    x[:, :, :length] = torch.randn(1, 3, length, V, 1, generator=torch.Generator().manual_seed(1))
    alone = layer_gradcam(model, x[:, :, :length], 2, 0)
    assert alone.sum() > 0
    with pytest.raises(ValueError, match="forward takes no lengths"):
        layer_gradcam(model, x, 2, 0, lengths=[length])
    # the wrong scale it would give: the same network through a forward that drops lengths
    liar = BlockwiseModel(IgnoresLengths(), "blocks", strides=[1, 1], channels=[4, 6])
    liar.model.load_state_dict(model.model.state_dict())
    padded = layer_gradcam(liar, x, 2, 0, lengths=[length])[:, :, :length]
    np.testing.assert_allclose(padded, alone * length / frames, rtol=1e-5, atol=1e-9)
    # clips that fill the batch need no lengths: the same map as without them
    np.testing.assert_array_equal(
        layer_gradcam(model, x[:, :, :length], 2, 0, lengths=[length]), alone
    )


def test_dataset_gradcam_runs_a_model_without_lengths_on_unpadded_batches():
    """Natural-length clips of different lengths: each gets its own map (batches of one length)."""
    model = pointwise_wrapped()
    ds = make_dataset(n_per_class=2, classes=2, seed=3)
    assert len(set(ds.lengths.tolist())) > 1
    cams = dataset_gradcam(model, ds, [1, 2], target=0, config=NATURAL, progress=False)
    for i in range(len(ds)):
        x, _ = model_inputs(ds, NATURAL, index=[i])
        alone = layer_gradcam(model, x, [1, 2], 0)
        for layer in (1, 2):
            np.testing.assert_allclose(cams.maps[layer][i], alone[layer][0], rtol=1e-5, atol=1e-7)
