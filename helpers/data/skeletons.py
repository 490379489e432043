"""Skeleton layouts of the datasets the project knows: joint names, bones, centre joints, sides.

This is the one home of these facts. The HDM05 loader (:mod:`helpers.data.hdm05`), the NTU RGB+D
loader (:mod:`~helpers.data.ntu`), the skeleton graphs (:mod:`~helpers.nets.skeleton_graph`) and the
skeleton plots (:mod:`~helpers.plots.skeletons`) all read them from here.

UTD-MHAD (:mod:`helpers.data.utd_mhad`) has the 20-joint Kinect v1 skeleton.

A :class:`SkeletonLayout` has two special joints, because the two uses need different ones:

``center``
    the centre joint of ST-GCN's ``'spatial'`` partition (neighbours are "closer" or "farther"
    relative to it). NTU RGB+D: joint 21 (1-based), spine shoulder, as in the original st-gcn
    code; HDM05: the analogous thorax; UTD-MHAD: the shoulder centre; so every layout
    partitions around the upper spine.
``root``
    the joint subtracted when clips are centred (:meth:`SkeletonDataset.normalized`); the
    loaders store it as the dataset's ``center``. HDM05: the ASF root (pelvis); UTD-MHAD: the hip
    centre (pelvis); NTU RGB+D: spine shoulder, as the loaders have always done.

>>> HDM05.num_joints, HDM05.joint_names[HDM05.center], NTU_RGBD.joint_names[NTU_RGBD.center]
(31, 'thorax', 'spine shoulder')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = [
    "HDM05",
    "HDM05_EDGES",
    "HDM05_JOINT_NAMES",
    "HDM05_PARENTS",
    "HDM05_SIDES",
    "LAYOUTS",
    "NTU_CENTER",
    "NTU_EDGES",
    "NTU_JOINT_NAMES",
    "NTU_RGBD",
    "SkeletonLayout",
    "UTD_MHAD",
    "UTD_MHAD_EDGES",
    "UTD_MHAD_JOINT_NAMES",
    "UTD_MHAD_PARENTS",
    "get_layout",
    "joint_sides",
]


@dataclass(frozen=True)
class SkeletonLayout:
    """One dataset's skeleton.

    Attributes
    ----------
    name : the layout's name (a key of :data:`LAYOUTS`)
    joint_names : V joint names, in the data's joint order
    edges : E undirected bones as 0-based ``(i, j)`` joint pairs
    center : centre joint of the spatial partition (see the module docstring)
    root : joint subtracted when centring clips
    sides : V body sides, ``'L'``, ``'R'`` or ``'C'`` (centre line), e.g. to colour plots
    parents : V parent joints (-1 for the root) where the skeleton is a kinematic tree, or None
    hips, shoulders : the ``(left, right)`` hip and shoulder joints, whose line across the body
        gives a clip's heading (:mod:`helpers.data.canonical`), or None
    """

    name: str
    joint_names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    center: int
    root: int
    sides: tuple[str, ...]
    parents: tuple[int, ...] | None = None
    hips: tuple[int, int] | None = None
    shoulders: tuple[int, int] | None = None

    @property
    def num_joints(self) -> int:
        """V, the number of joints."""
        return len(self.joint_names)

    def edge_array(self) -> np.ndarray:
        """The bones as an (E, 2) int64 array."""
        return np.array(self.edges, dtype=np.int64).reshape(-1, 2)


# ---------------------------------------------------------------------------------- HDM05
#: HDM05 (Acclaim ASF skeleton): joint 0 is the root, then the ASF bones in file order; each
#: bone is represented by its end point.
HDM05_JOINT_NAMES: tuple[str, ...] = (
    "root",
    "lhipjoint", "lfemur", "ltibia", "lfoot", "ltoes",
    "rhipjoint", "rfemur", "rtibia", "rfoot", "rtoes",
    "lowerback", "upperback", "thorax", "lowerneck", "upperneck", "head",
    "lclavicle", "lhumerus", "lradius", "lwrist", "lhand", "lfingers", "lthumb",
    "rclavicle", "rhumerus", "rradius", "rwrist", "rhand", "rfingers", "rthumb",
)  # fmt: skip

#: Parent joint of each HDM05 joint (-1 for the root), from the ASF ``:hierarchy``.
HDM05_PARENTS: tuple[int, ...] = (
    -1,
    0, 1, 2, 3, 4,
    0, 6, 7, 8, 9,
    0, 11, 12, 13, 14, 15,
    13, 17, 18, 19, 20, 21, 20,
    13, 24, 25, 26, 27, 28, 27,
)  # fmt: skip

#: The 30 HDM05 bones as ``(parent joint, child joint)``, in child order.
HDM05_EDGES: tuple[tuple[int, int], ...] = tuple(
    (p, c) for c, p in enumerate(HDM05_PARENTS) if p >= 0
)

#: Body side of each HDM05 joint (names start with l/r, but lowerback/lowerneck are central).
HDM05_SIDES: tuple[str, ...] = tuple(
    "C"
    if name in ("root", "lowerback", "lowerneck")
    else "L"
    if name.startswith("l")
    else "R"
    if name.startswith("r")
    else "C"
    for name in HDM05_JOINT_NAMES
)

HDM05 = SkeletonLayout(
    name="hdm05",
    joint_names=HDM05_JOINT_NAMES,
    edges=HDM05_EDGES,
    center=HDM05_JOINT_NAMES.index("thorax"),
    root=0,
    sides=HDM05_SIDES,
    parents=HDM05_PARENTS,
    # a joint is its bone's end point: the hip bone ends at the hip, the clavicle at the shoulder
    hips=(HDM05_JOINT_NAMES.index("lhipjoint"), HDM05_JOINT_NAMES.index("rhipjoint")),
    shoulders=(HDM05_JOINT_NAMES.index("lclavicle"), HDM05_JOINT_NAMES.index("rclavicle")),
)

# ---------------------------------------------------------------------------------- NTU RGB+D
#: Kinect v2 joint order of NTU RGB+D (0-based index = 1-based joint number - 1), named as in
#: the dataset paper's figure; the Kinect SDK calls them SpineBase, SpineMid, Neck, Head, ...
NTU_JOINT_NAMES: tuple[str, ...] = (
    "spine base", "spine mid", "neck", "head",
    "left shoulder", "left elbow", "left wrist", "left hand",
    "right shoulder", "right elbow", "right wrist", "right hand",
    "left hip", "left knee", "left ankle", "left foot",
    "right hip", "right knee", "right ankle", "right foot",
    "spine shoulder", "left hand tip", "left thumb", "right hand tip", "right thumb",
)  # fmt: skip

#: The 24 bones of the 25-joint skeleton, 0-based, exactly as st-gcn's ``ntu-rgb+d`` layout
#: (which chains hand tip - thumb - hand; the Kinect SDK itself hangs the thumb off the wrist).
#: Keeping st-gcn's graph makes the spatial partitions, and so the models, comparable.
NTU_EDGES: tuple[tuple[int, int], ...] = tuple(
    (i - 1, j - 1)
    for i, j in (
        (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9),
        (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
        (20, 19), (22, 23), (23, 8), (24, 25), (25, 12),
    )
)  # fmt: skip

#: Centre joint of NTU RGB+D: joint 21 (1-based), spine shoulder, as in st-gcn.
NTU_CENTER = 20


def _sides_from_words(joint_names: Sequence[str]) -> tuple[str, ...]:
    out = []
    for name in joint_names:
        n = str(name).lower()
        out.append("L" if "left" in n else "R" if "right" in n else "C")
    return tuple(out)


NTU_RGBD = SkeletonLayout(
    name="ntu-rgb+d",
    joint_names=NTU_JOINT_NAMES,
    edges=NTU_EDGES,
    center=NTU_CENTER,
    root=NTU_CENTER,
    sides=_sides_from_words(NTU_JOINT_NAMES),
    hips=(NTU_JOINT_NAMES.index("left hip"), NTU_JOINT_NAMES.index("right hip")),
    shoulders=(NTU_JOINT_NAMES.index("left shoulder"), NTU_JOINT_NAMES.index("right shoulder")),
)

# ---------------------------------------------------------------------------------- UTD-MHAD
#: Kinect v1 joint order of UTD-MHAD (0-based index = the authors' 1-based number - 1, from
#: ``Skeleton_joint_order.txt``). The 20 joints are NTU RGB+D's 25 without neck, hand tips and
#: thumbs, in another order.
UTD_MHAD_JOINT_NAMES: tuple[str, ...] = (
    "head", "shoulder center", "spine", "hip center",
    "left shoulder", "left elbow", "left wrist", "left hand",
    "right shoulder", "right elbow", "right wrist", "right hand",
    "left hip", "left knee", "left ankle", "left foot",
    "right hip", "right knee", "right ankle", "right foot",
)  # fmt: skip

#: Parent of each UTD-MHAD joint in the Kinect v1 tree, rooted at the hip centre (-1).
UTD_MHAD_PARENTS: tuple[int, ...] = (
    1, 2, 3, -1,
    1, 4, 5, 6,
    1, 8, 9, 10,
    3, 12, 13, 14,
    3, 16, 17, 18,
)  # fmt: skip

#: The 19 bones of the Kinect v1 skeleton as ``(parent joint, child joint)``, in child order.
UTD_MHAD_EDGES: tuple[tuple[int, int], ...] = tuple(
    (p, c) for c, p in enumerate(UTD_MHAD_PARENTS) if p >= 0
)

UTD_MHAD = SkeletonLayout(
    name="utd-mhad",
    joint_names=UTD_MHAD_JOINT_NAMES,
    edges=UTD_MHAD_EDGES,
    # the upper spine, as NTU RGB+D's spine shoulder and HDM05's thorax
    center=UTD_MHAD_JOINT_NAMES.index("shoulder center"),
    # the pelvis, as HDM05's root: it moves least when the arms do
    root=UTD_MHAD_JOINT_NAMES.index("hip center"),
    sides=_sides_from_words(UTD_MHAD_JOINT_NAMES),
    parents=UTD_MHAD_PARENTS,
    hips=(UTD_MHAD_JOINT_NAMES.index("left hip"), UTD_MHAD_JOINT_NAMES.index("right hip")),
    shoulders=(
        UTD_MHAD_JOINT_NAMES.index("left shoulder"),
        UTD_MHAD_JOINT_NAMES.index("right shoulder"),
    ),
)

#: The built-in layouts by name.
LAYOUTS: dict[str, SkeletonLayout] = {
    HDM05.name: HDM05,
    NTU_RGBD.name: NTU_RGBD,
    UTD_MHAD.name: UTD_MHAD,
}


def get_layout(name: str) -> SkeletonLayout:
    """The built-in layout called ``name`` (``'hdm05'``, ``'ntu-rgb+d'`` or ``'utd-mhad'``)."""
    if name not in LAYOUTS:
        raise ValueError(
            f"unknown layout {name!r}; expected one of {sorted(LAYOUTS)}, or build a "
            "SkeletonGraph from your own edge list"
        )
    return LAYOUTS[name]


def joint_sides(joint_names: Sequence[str]) -> tuple[str, ...]:
    """Body side (``'L'``, ``'R'`` or ``'C'``) of each joint.

    The sides of a built-in layout when ``joint_names`` are its names; otherwise read from the
    words "left" and "right" in the names (anything else is on the centre line).
    """
    names = tuple(str(n) for n in joint_names)
    for layout in LAYOUTS.values():
        if names == layout.joint_names:
            return layout.sides
    return _sides_from_words(names)
