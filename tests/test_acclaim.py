"""ASF/AMC parsing and forward kinematics, checked against a hand-worked skeleton.

The fixture ``tests/fixtures/acclaim/tiny.asf`` has a root and three bones (all lengths in ASF
units; the tests use ``metres=False`` for the arithmetic and check the metre factor apart):

* ``spine``: child of root, direction (0, 1, 0), length 2, axis 0 0 0 (C = I), dof rx ry rz;
* ``arm``: child of spine, direction (1, 0, 0), length 1, axis 0 0 90 (C = Rz(90)), dof rx;
* ``leg``: child of root, direction (0, -1, 0), length 3, no dof.

Rotations about fixed axes in the listed order: ``dof rx ry rz`` gives M = Rz @ Ry @ Rx.
Useful 90-degree facts: Rx(90) maps y -> z, z -> -y; Ry(90) maps x -> -z, z -> x;
Rz(90) maps x -> y, y -> -x.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from helpers.data.acclaim import (
    AsfSkeleton,
    SkeletonFormatError,
    euler_matrix,
    forward_kinematics,
    parse_amc,
    parse_asf,
    rest_pose,
)

from naive import naive_forward_kinematics

FIXTURES = Path(__file__).parent / "fixtures" / "acclaim"
TINY_ASF = FIXTURES / "tiny.asf"
TINY_AMC = FIXTURES / "tiny.amc"
JOINTS = ["root", "spine", "arm", "leg"]

# Hand-worked joint positions (ASF units), one row per frame, joints in JOINTS order.
EXPECTED = np.array(
    [
        # frame 1: root at (1, 2, 3), all angles zero -> the rest pose shifted by the root:
        # spine = root + 2*(0,1,0) = (1,4,3); arm = spine + 1*(1,0,0) = (2,4,3); leg = root +
        # 3*(0,-1,0) = (1,-1,3)
        [[1, 2, 3], [1, 4, 3], [2, 4, 3], [1, -1, 3]],
        # frame 2: root at 0 turned by Ry(90); spine rx = 90; arm rx = 90.
        # R_spine = Ry90 @ Rx90: (0,2,0) -Rx90-> (0,0,2) -Ry90-> (2,0,0) -> spine (2,0,0)
        # arm: L = C Rx(90) C^-1 with C = Rz(90) is a 90-degree turn about C's x axis = global y,
        # i.e. Ry(90);
        # L (1,0,0) = (0,0,-1); -Rx90-> (0,1,0); -Ry90-> (0,1,0) -> arm (2,1,0)
        # leg has no dof: R_leg = Ry90; (0,-3,0) stays -> leg (0,-3,0)
        [[0, 0, 0], [2, 0, 0], [2, 1, 0], [0, -3, 0]],
        # frame 3: spine rx = 90, ry = 90 -> M = Ry90 @ Rx90 (x first):
        # (0,2,0) -Rx90-> (0,0,2) -Ry90-> (2,0,0) -> spine (2,0,0)
        # arm, no motion: (1,0,0) -Rx90-> (1,0,0) -Ry90-> (0,0,-1) -> arm (2,0,-1)
        [[0, 0, 0], [2, 0, 0], [2, 0, -1], [0, -3, 0]],
        # frame 4: root at (1,0,0) with RX = 90, RZ = 90 -> R_root = Rz90 @ Rx90:
        # spine: (0,2,0) -Rx90-> (0,0,2) -Rz90-> (0,0,2) -> spine (1,0,2)
        # arm: (1,0,0) -Rx90-> (1,0,0) -Rz90-> (0,1,0) -> arm (1,1,2)
        # leg: (0,-3,0) -Rx90-> (0,0,-3) -Rz90-> (0,0,-3) -> leg (1,0,-3)
        [[1, 0, 0], [1, 0, 2], [1, 1, 2], [1, 0, -3]],
    ],
    dtype=float,
)


# ---------------------------------------------------------------------------------- rotations
def test_euler_matrix_is_fixed_axes_in_listed_order():
    a, b, c = 0.3, -1.1, 2.0
    ca, sa, cb, sb, cc, sc = (
        math.cos(a),
        math.sin(a),
        math.cos(b),
        math.sin(b),
        math.cos(c),
        math.sin(c),
    )
    rx = np.array([[1, 0, 0], [0, ca, -sa], [0, sa, ca]])
    ry = np.array([[cb, 0, sb], [0, 1, 0], [-sb, 0, cb]])
    rz = np.array([[cc, -sc, 0], [sc, cc, 0], [0, 0, 1]])
    np.testing.assert_allclose(euler_matrix([a, b, c], "XYZ"), rz @ ry @ rx, atol=1e-12)
    np.testing.assert_allclose(euler_matrix([c, a], "zx"), rx @ rz, atol=1e-12)
    # batched over leading axes
    batch = euler_matrix(np.array([[a, b, c], [0, 0, 0]]), "xyz")
    np.testing.assert_allclose(batch[0], rz @ ry @ rx, atol=1e-12)
    np.testing.assert_allclose(batch[1], np.eye(3), atol=1e-12)


# ---------------------------------------------------------------------------------- parsing
def test_parse_tiny_asf():
    sk = parse_asf(TINY_ASF)
    assert isinstance(sk, AsfSkeleton)
    assert sk.name == "tiny" and sk.length_unit == 0.45 and sk.angle_unit == "deg"
    assert sk.root_order == ("TX", "TY", "TZ", "RX", "RY", "RZ") and sk.root_axis == "XYZ"
    assert sk.joint_names == JOINTS
    assert sk.parents == {"spine": "root", "arm": "spine", "leg": "root"}
    np.testing.assert_array_equal(sk.edges(), [[0, 1], [1, 2], [0, 3]])
    arm = sk.bone("arm")
    assert arm.dof == ("rx",) and arm.axis_order == "XYZ"
    np.testing.assert_allclose(arm.axis, [0, 0, math.pi / 2])
    np.testing.assert_allclose(arm.limits, [[-math.pi / 2, math.pi / 2]])
    assert sk.bone("leg").dof == () and sk.bone("leg").length == 3.0
    assert sk.dof_counts() == {"root": 6, "spine": 3, "arm": 1, "leg": 0}
    assert sk.metres_per_unit == pytest.approx(0.0254 / 0.45)


def test_parse_tiny_amc_latin1_header_and_mixed_line_endings():
    raw = TINY_AMC.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is not UTF-8
    assert b"\r\n" in raw and b"1\n" in raw  # CRLF and bare LF lines
    sk = parse_asf(TINY_ASF)
    m = parse_amc(TINY_AMC, sk)
    assert m.num_frames == 4 and m.angle_unit == "deg"
    np.testing.assert_array_equal(m.frame_numbers, [1, 2, 3, 4])
    assert m.bones == ["root", "spine", "arm"]
    np.testing.assert_array_equal(m.values["spine"][2], [90, 90, 0])
    assert m.values["leg"].shape == (4, 0)
    # without a skeleton the first frame defines the layout
    m2 = parse_amc(TINY_AMC)
    np.testing.assert_array_equal(m2.values["root"], m.values["root"])


def test_forward_kinematics_matches_hand_worked_positions():
    sk = parse_asf(TINY_ASF)
    pos = forward_kinematics(sk, parse_amc(TINY_AMC, sk), metres=False)
    assert pos.shape == (4, 4, 3)
    np.testing.assert_allclose(pos, EXPECTED, atol=1e-12)
    metres = forward_kinematics(sk, parse_amc(TINY_AMC, sk))
    np.testing.assert_allclose(metres, EXPECTED * 0.0254 / 0.45, atol=1e-12)


def test_forward_kinematics_matches_naive_per_frame_loop():
    """Vectorised FK equals a frame-by-frame, bone-by-bone reference on random angles."""
    sk = parse_asf(TINY_ASF)
    rng = np.random.default_rng(0)
    m = parse_amc(TINY_AMC, sk)
    t = 7
    m.frame_numbers = np.arange(t)
    m.values = {
        "root": rng.uniform(-180, 180, (t, 6)),
        "spine": rng.uniform(-180, 180, (t, 3)),
        "arm": rng.uniform(-90, 90, (t, 1)),
        "leg": np.zeros((t, 0)),
    }
    fast = forward_kinematics(sk, m, metres=False)
    slow = naive_forward_kinematics(sk, m, metres=False)
    np.testing.assert_allclose(fast, slow, atol=1e-9)
    for f in range(t):
        # bone lengths survive any rotation
        assert np.linalg.norm(fast[f, 2] - fast[f, 1]) == pytest.approx(1.0)


def test_root_orientation_and_rest_pose(tmp_path):
    # C_root = Rz(90): the root's RX channel then turns about global y (C Rx C^-1 = Ry)
    text = (
        TINY_ASF.read_bytes().decode("latin-1").replace("orientation 0 0 0", "orientation 0 0 90")
    )
    p = tmp_path / "turned.asf"
    p.write_text(text, encoding="latin-1")
    sk = parse_asf(p)
    amc = tmp_path / "m.amc"
    amc.write_text(":DEGREES\n1\nroot 0 0 0 90 0 0\nspine 0 0 0\narm 0\n")
    pos = forward_kinematics(sk, parse_amc(amc, sk), metres=False)[0]
    # arm offset (1,0,0) turned by Ry(90) -> (0,0,-1); spine stays (0,2,0)
    np.testing.assert_allclose(pos, [[0, 0, 0], [0, 2, 0], [0, 2, -1], [0, -3, 0]], atol=1e-12)
    np.testing.assert_allclose(
        rest_pose(parse_asf(TINY_ASF), metres=False), [[0, 0, 0], [0, 2, 0], [1, 2, 0], [0, -3, 0]]
    )


def test_latin1_asf_header_is_accepted(tmp_path):
    p = tmp_path / "latin1.asf"
    p.write_bytes(b"# AST/ASF f\xfcr Bonn\r\n" + TINY_ASF.read_bytes())
    assert parse_asf(p).joint_names == JOINTS


def test_radians_amc(tmp_path):
    sk = parse_asf(TINY_ASF)
    amc = tmp_path / "rad.amc"
    amc.write_text(
        f":RADIANS\n1\nroot 0 0 0 0 {math.pi / 2} 0\nspine {math.pi / 2} 0 0\narm {math.pi / 2}\n"
    )
    pos = forward_kinematics(sk, parse_amc(amc, sk), metres=False)
    np.testing.assert_allclose(pos[0], EXPECTED[1], atol=1e-12)


# ---------------------------------------------------------------------------------- bad input
def _edit(src: Path, dst: Path, old: str, new: str) -> Path:
    text = src.read_bytes().decode("latin-1")
    assert old in text, f"fixture lacks {old!r}"
    dst.write_bytes(text.replace(old, new, 1).encode("latin-1"))
    return dst


def _line_of(path: Path, needle: str) -> int:
    for k, line in enumerate(path.read_bytes().decode("latin-1").split("\n"), 1):
        if needle in line:
            return k
    raise AssertionError(needle)


@pytest.mark.parametrize(
    "old,new,needle,message",
    [
        ("arm 90", "arm 9o", "arm 9o", "expected a number"),
        ("arm 90", "arm nan", "arm nan", "finite"),
        ("arm 90", "arm inf", "arm inf", "finite"),
        ("spine 90 0 0", "spine 90 0", "spine 90 0", "has 2 values; expected 3"),
        ("arm 90", "arm 90 1", "arm 90 1", "has 2 values; expected 1"),
        ("arm 90", "hand 90", "hand 90", "not in the skeleton"),
        ("spine 90 90 0\r\n", "spine 90 90 0\r\nspine 1 2 3\r\n", "spine 1 2 3", "appears twice"),
    ],
)
def test_bad_amc_lines_name_file_and_line(tmp_path, old, new, needle, message):
    bad = _edit(TINY_AMC, tmp_path / "bad.amc", old, new)
    with pytest.raises(SkeletonFormatError, match=message) as err:
        parse_amc(bad, parse_asf(TINY_ASF))
    assert isinstance(err.value, ValueError)
    assert err.value.line == _line_of(bad, needle)
    assert str(bad) in str(err.value) and f":{err.value.line}:" in str(err.value)


def test_truncated_amc_names_the_incomplete_frame(tmp_path):
    lines = TINY_AMC.read_bytes().split(b"\n")
    cut = tmp_path / "cut.amc"
    cut.write_bytes(b"\n".join(lines[:-3]) + b"\n")  # frame 4 loses spine and arm
    with pytest.raises(SkeletonFormatError, match=r"frame 4 lacks bone\(s\) arm, spine") as err:
        parse_amc(cut, parse_asf(TINY_ASF))
    assert err.value.line == 16  # frame 4's number line
    # also without a skeleton: the first frame sets the expectation
    with pytest.raises(SkeletonFormatError, match="lacks"):
        parse_amc(cut)


def test_missing_bone_mid_file(tmp_path):
    bad = _edit(TINY_AMC, tmp_path / "gap.amc", "arm 90\r\n", "")
    with pytest.raises(
        SkeletonFormatError, match=r"frame 2 lacks bone\(s\) arm before line 11"
    ) as err:
        parse_amc(bad, parse_asf(TINY_ASF))
    assert err.value.line == 8


def test_zero_frames_and_junk_before_frames(tmp_path):
    empty = tmp_path / "empty.amc"
    empty.write_bytes(b"#!OML:ASF \xfc\r\n:FULLY-SPECIFIED\r\n:DEGREES\r\n")
    with pytest.raises(SkeletonFormatError, match="no frames"):
        parse_amc(empty, parse_asf(TINY_ASF))
    junk = tmp_path / "junk.amc"
    junk.write_text(":DEGREES\nroot 0 0 0 0 0 0\n")
    with pytest.raises(SkeletonFormatError, match="expected a frame number") as err:
        parse_amc(junk)
    assert err.value.line == 2


@pytest.mark.parametrize(
    "old,new,needle,message",
    [
        (
            "direction 1 0 0",
            "direction 1 0",
            "direction 1 0",
            "expected 3 numbers for bone direction",
        ),
        ("length 3", "length three", "length three", "expected a number for bone length"),
        ("length 3", "length nan", "length nan", "finite"),
        ("spine arm", "spine arm hand", "spine arm hand", "unknown bone 'hand'"),
        ("root spine leg", "pelvis spine leg", "pelvis spine leg", "unknown bone 'pelvis'"),
        ("dof rx\r\n", "dof rx tx\r\n", "dof rx tx", "supported dof"),
        ("axis 0 0 90  XYZ", "axis 0 0 90  XYQ", "axis 0 0 90  XYQ", "rotation order"),
    ],
)
def test_bad_asf_lines_name_file_and_line(tmp_path, old, new, needle, message):
    bad = _edit(TINY_ASF, tmp_path / "bad.asf", old, new)
    with pytest.raises(SkeletonFormatError, match=message) as err:
        parse_asf(bad)
    assert err.value.line == _line_of(bad, needle)
    assert str(bad) in str(err.value)


def test_asf_structure_errors(tmp_path):
    text = TINY_ASF.read_bytes().decode("latin-1")
    no_bones = tmp_path / "nobones.asf"
    no_bones.write_text(text[: text.index(":bonedata")] + text[text.index(":hierarchy") :])
    with pytest.raises(SkeletonFormatError, match="no :bonedata section"):
        parse_asf(no_bones)
    orphan = _edit(TINY_ASF, tmp_path / "orphan.asf", "    spine arm\r\n", "")
    with pytest.raises(SkeletonFormatError, match="not attached in :hierarchy: arm"):
        parse_asf(orphan)
    no_length = _edit(TINY_ASF, tmp_path / "nolength.asf", "     length 1\r\n", "")
    with pytest.raises(SkeletonFormatError, match="no 'length' line") as err:
        parse_asf(no_length)
    assert err.value.line == _line_of(no_length, "id 2") - 1  # the bone's 'begin'
    with pytest.raises(FileNotFoundError, match="missing.asf"):
        parse_asf(tmp_path / "missing.asf")


def test_forward_kinematics_rejects_motion_of_another_skeleton(tmp_path):
    sk = parse_asf(TINY_ASF)
    other = tmp_path / "other.amc"
    other.write_text(":DEGREES\n1\nroot 0 0 0 0 0 0\narm 0\n")
    motion = parse_amc(other)  # no skeleton given: parses, but has no spine values
    with pytest.raises(SkeletonFormatError, match="no values for bone 'spine'"):
        forward_kinematics(sk, motion)
