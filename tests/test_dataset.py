import numpy as np
import pytest

from helpers.data.dataset import SkeletonDataset, pad_sequences


def make(n=4, v=3, c=3, bodies=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (lambda t: (t, v, c)) if bodies is None else (lambda t: (t, bodies, v, c))
    seqs = [rng.normal(size=shape(5 + i)) for i in range(n)]
    return SkeletonDataset.from_arrays(
        seqs,
        labels=[i % 2 for i in range(n)],
        class_names=["a", "b"],
        subjects=["s1", "s1", "s2", "s2"][:n],
        split=["train", "train", "test", "test"][:n],
        edges=[(0, 1), (1, 2)],
        center=1,
        name="toy",
    )


def test_from_arrays_and_facts():
    ds = make()
    assert len(ds) == 4 and ds.num_joints == 3 and ds.num_channels == 3 and ds.num_bodies == 1
    np.testing.assert_array_equal(ds.lengths, [5, 6, 7, 8])
    np.testing.assert_array_equal(ds.class_counts(), [2, 2])
    assert len(ds.train()) == 2 and set(ds.test().subjects) == {"s2"}
    assert "toy" in repr(ds)


def test_padded_layout_and_lengths():
    ds = make()
    x, lengths = ds.padded()
    assert x.shape == (4, 3, 8, 3, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(lengths, [5, 6, 7, 8])
    # (N, C, T, V, M)[i, c, t, v, 0] == sequence[t, v, c]; padding is zero
    np.testing.assert_allclose(x[1, 2, 4, 0, 0], ds.sequences[1][4, 0, 2])
    assert np.all(x[0, :, 5:] == 0)
    x2, l2 = ds.padded([3], max_len=6)
    assert x2.shape == (1, 3, 6, 3, 1) and l2.tolist() == [6]


def test_padded_multi_body():
    ds = make(bodies=2)
    x, lengths = ds.padded()
    assert x.shape == (4, 3, 8, 3, 2)
    np.testing.assert_allclose(x[2, 0, 3, 1, 1], ds.sequences[2][3, 1, 1, 0])


def test_normalized_centres_on_root():
    ds = make()
    first = ds.normalized("first")
    np.testing.assert_allclose(first.sequences[0][0, 1], 0, atol=1e-6)
    frame = ds.normalized("frame")
    np.testing.assert_allclose(frame.sequences[2][:, 1], 0, atol=1e-6)
    # relative positions are unchanged by centring
    np.testing.assert_allclose(
        frame.sequences[2][:, 0] - frame.sequences[2][:, 2],
        ds.sequences[2][:, 0] - ds.sequences[2][:, 2],
        atol=1e-5,
    )
    scaled = ds.normalized(None, scale=2.0)
    np.testing.assert_allclose(scaled.sequences[0], ds.sequences[0] / 2, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sequences=[np.zeros((0, 3, 3))]), "zero frames"),
        (dict(sequences=[np.full((2, 3, 3), np.nan)]), "NaN or inf at frame 0"),
        (dict(sequences=[np.zeros((2, 3, 3)), np.zeros((2, 4, 3))]), r"sequence 1 .* expected"),
        (dict(sequences=[np.zeros((2, 3))]), "expected"),
        (dict(labels=[5]), "outside"),
        (dict(split=["val"]), "train' or 'test"),
        (dict(edges=[(0, 9)]), "edges"),
    ],
)
def test_bad_input_is_named(kwargs, match):
    args = dict(sequences=[np.zeros((2, 3, 3))], labels=[0], class_names=["a"], split=["train"])
    args.update(kwargs)
    if len(args["sequences"]) == 2:
        args.update(labels=[0, 0], split=["train", "train"])
    with pytest.raises(ValueError, match=match):
        SkeletonDataset.from_arrays(**args)


def test_pad_sequences_empty():
    with pytest.raises(ValueError):
        pad_sequences([])


def test_labels_must_be_whole_numbers():
    seqs = [np.zeros((2, 3, 3))] * 3
    with pytest.raises(
        ValueError, match=r"label 1\.7 of sequence 1 is not a whole number \(2 such"
    ):
        SkeletonDataset.from_arrays(seqs, labels=[0.0, 1.7, 1.2])
    with pytest.raises(ValueError, match="label nan of sequence 2"):
        SkeletonDataset.from_arrays(seqs, labels=[0.0, 1.0, np.nan])
    with pytest.raises(TypeError, match="np.unique"):
        SkeletonDataset.from_arrays(seqs, labels=["walk", "run", "walk"])
    # whole-number floats (labels read from a CSV, say) are fine
    np.testing.assert_array_equal(
        SkeletonDataset.from_arrays(seqs, labels=[0.0, 1.0, 1.0]).labels, [0, 1, 1]
    )
    assert (
        SkeletonDataset.from_arrays(seqs, labels=np.array([0, 1, 1], np.int8)).labels.dtype
        == np.int64
    )


# ------------------------------------------------------------------ save / load
@pytest.mark.parametrize("bodies", [None, 2])
def test_save_and_load_round_trip(tmp_path, bodies):
    ds = make(n=4, bodies=bodies)
    ds.joint_names = ["a", "b", "c"]
    ds.fps, ds.units, ds.name, ds.up_axis = 12.5, "m", "toy", 2
    path = ds.save(tmp_path / "sub" / "toy")  # '.npz' appended, folders made
    assert path == tmp_path / "sub" / "toy.npz" and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["toy.npz"]  # no temporary left behind
    back = SkeletonDataset.load(path)
    assert back.fingerprint() == ds.fingerprint()
    for a, b in zip(back.sequences, ds.sequences):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.float32
    np.testing.assert_array_equal(back.labels, ds.labels)
    np.testing.assert_array_equal(back.edges, ds.edges)
    assert back.class_names == ds.class_names and back.files == ds.files
    assert back.joint_names == ["a", "b", "c"]
    assert (back.fps, back.units, back.name, back.up_axis, back.center) == (12.5, "m", "toy", 2, 1)
    assert [str(s) for s in back.subjects] == [str(s) for s in ds.subjects]
    assert list(back.split) == list(ds.split)


def test_load_names_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        SkeletonDataset.load(tmp_path / "missing.npz")
    text = tmp_path / "notes.npz"
    text.write_text("not an archive")
    with pytest.raises(ValueError, match="not a .npz archive"):
        SkeletonDataset.load(text)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(ValueError, match="not a saved SkeletonDataset"):
        SkeletonDataset.load(other)
    path = make(n=3).save(tmp_path / "ok.npz")
    with np.load(path) as z:
        parts = dict(z)
    parts["lengths"] = parts["lengths"] + 1
    np.savez(tmp_path / "bad.npz", **parts)
    with pytest.raises(ValueError, match="bad.npz.*do not match"):
        SkeletonDataset.load(tmp_path / "bad.npz")
    parts = {k: v for k, v in parts.items() if k != "edges"}
    np.savez(tmp_path / "partial.npz", **parts)
    with pytest.raises(ValueError, match=r"lacks the entries \['edges'\]"):
        SkeletonDataset.load(tmp_path / "partial.npz")
