"""Acclaim motion capture files: ASF skeletons, AMC motions and forward kinematics.

The Acclaim format (used by HDM05 and the CMU mocap database) splits a recording in two:

* an **ASF** file describes one actor's skeleton: a root plus bones, each with a rest-pose
  ``direction`` (a unit vector in the global frame), a ``length``, a local frame given as
  Euler angles (``axis ax ay az XYZ``), the rotational degrees of freedom (``dof rx ry rz``)
  and a ``:hierarchy`` of parent/child links;
* an **AMC** file lists, frame after frame, the root translation and rotation and each bone's
  dof values (angles in degrees unless ``:RADIANS``).

Conventions used here (documented because files rarely state them):

* Euler angles named by an order string such as ``"XYZ"`` are rotations about the *fixed*
  (parent) axes applied in that order, so with column vectors
  ``R("XYZ", a, b, c) = Rz(c) @ Ry(b) @ Rx(a)``. This applies both to a bone's ``axis`` (giving
  its local frame ``C``) and to its dof list (``dof rx ry rz`` gives ``M = Rz @ Ry @ Rx``; a bone
  with ``dof rx rz`` gives ``M = Rz @ Rx``; a bone without dof has ``M = I``). The root's motion
  uses its ``order`` line (``RX RY RZ``) and its local frame ``C_root`` from ``orientation``
  in the ``axis`` order.
* A bone's rotation relative to its parent is expressed in the bone's own frame, so in the
  parent's frame it is ``L = C @ M @ C^-1``. Global rotations chain from the root down:
  ``R_bone = R_parent @ L`` with ``R_root = C_root @ M_root @ C_root^-1``.
* A bone starts where its parent ends. Its end point, the "joint" it stands for here, is
  ``p_bone = p_parent + R_bone @ (direction * length)``; the root joint sits at the AMC root
  translation (the ASF ``position`` is only the rest pose's root position).
* Lengths (bones and root translation) are in ASF units: dividing by ``:units length``
  (0.45 in HDM05 and CMU) gives inches, and one inch is 0.0254 m.

Joints come out in the order: index 0 = root, then the bones in ``:bonedata`` order. Edges are
``(parent joint, child joint)`` for each hierarchy link, listed in child order.

Files are read as Latin-1 (HDM05 headers hold a non-UTF-8 path) and may mix CRLF and LF line
endings. Malformed input raises :class:`SkeletonFormatError` naming the file, the line and what
was expected.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "SkeletonFormatError",
    "AsfBone",
    "AsfSkeleton",
    "AmcMotion",
    "parse_asf",
    "parse_amc",
    "forward_kinematics",
    "rest_pose",
    "euler_matrix",
    "METRES_PER_INCH",
]

METRES_PER_INCH = 0.0254
_ROT_DOFS = ("rx", "ry", "rz")
_ROOT_CHANNELS = ("TX", "TY", "TZ", "RX", "RY", "RZ")
_LIMIT_RE = re.compile(r"\(\s*([^\s()]+)\s+([^\s()]+)\s*\)")


class SkeletonFormatError(ValueError):
    """A skeleton or motion file does not follow the expected format.

    ``path`` and ``line`` (1-based, or ``None`` for whole-file problems) say where.
    """

    def __init__(self, path: str | os.PathLike, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


# ---------------------------------------------------------------------------------- rotations
def _axis_rotation(axis: str, angle: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation by ``angle`` (radians, shape (...)) about the x, y or z axis."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    if axis == "x":
        rows = ((one, zero, zero), (zero, c, -s), (zero, s, c))
    elif axis == "y":
        rows = ((c, zero, s), (zero, one, zero), (-s, zero, c))
    elif axis == "z":
        rows = ((c, -s, zero), (s, c, zero), (zero, zero, one))
    else:
        raise ValueError(f"rotation axis must be 'x', 'y' or 'z', got {axis!r}")
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def euler_matrix(angles: np.ndarray, order: str) -> np.ndarray:
    """Rotation matrices for Euler angles about fixed axes applied in ``order``.

    angles: (..., k) radians, one column per letter of ``order`` (e.g. ``"xyz"`` or ``"XZ"``).
    Returns (..., 3, 3) ``R_k @ ... @ R_1``, i.e. the first letter's rotation is applied first.
    """
    angles = np.asarray(angles, dtype=np.float64)
    order = order.lower()
    if angles.shape[-1] != len(order):
        raise ValueError(f"{angles.shape[-1]} angles given for rotation order {order!r}")
    out = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    for k, ax in enumerate(order):
        out = _axis_rotation(ax, angles[..., k]) @ out
    return out


# ---------------------------------------------------------------------------------- data types
@dataclass
class AsfBone:
    """One ASF bone. Angles are stored in radians, lengths in ASF units."""

    name: str
    id: int | None
    direction: np.ndarray  # (3,) unit vector, global frame, rest pose
    length: float
    axis: np.ndarray  # (3,) Euler angles (radians) of the bone's local frame
    axis_order: str  # e.g. "XYZ"
    dof: tuple[str, ...] = ()  # subset of ("rx", "ry", "rz"), in file order
    limits: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # (len(dof), 2), radians
    line: int = 0  # line of the bone's ``begin`` in the ASF file

    @property
    def frame(self) -> np.ndarray:
        """(3, 3) the bone's local frame ``C`` (columns = local axes in global coordinates)."""
        return euler_matrix(self.axis, self.axis_order)


@dataclass
class AsfSkeleton:
    """A parsed ASF file.

    ``bones`` keep the ``:bonedata`` order; ``parents`` maps each bone name to its parent's
    name (``"root"`` for the root's children). Angles are in radians, lengths in ASF units
    (``length_unit`` of them make an inch).
    """

    path: str
    name: str
    version: str
    length_unit: float  # ``:units length`` (0.45 in HDM05): ASF length / this = inches
    mass_unit: float
    angle_unit: str  # "deg" or "rad", as declared by the file
    root_order: tuple[str, ...]  # e.g. ("TX", "TY", "TZ", "RX", "RY", "RZ")
    root_axis: str  # e.g. "XYZ"
    root_position: np.ndarray  # (3,) ASF units
    root_orientation: np.ndarray  # (3,) radians
    bones: list[AsfBone]
    parents: dict[str, str]

    @property
    def joint_names(self) -> list[str]:
        """``["root", <bones in :bonedata order>]``."""
        return ["root"] + [b.name for b in self.bones]

    @property
    def metres_per_unit(self) -> float:
        """Factor from ASF length units to metres (``0.0254 / length_unit``)."""
        return METRES_PER_INCH / self.length_unit

    def bone(self, name: str) -> AsfBone:
        """The bone called ``name``; raises KeyError if the skeleton has none."""
        for b in self.bones:
            if b.name == name:
                return b
        raise KeyError(f"no bone {name!r} in {self.path}")

    def parent_indices(self) -> np.ndarray:
        """(V,) int64 parent joint index of each joint (-1 for the root)."""
        index = {n: i for i, n in enumerate(self.joint_names)}
        return np.array([-1] + [index[self.parents[b.name]] for b in self.bones], dtype=np.int64)

    def edges(self) -> np.ndarray:
        """(V - 1, 2) int64 ``(parent joint, child joint)`` pairs, in child order."""
        par = self.parent_indices()
        return np.stack([par[1:], np.arange(1, len(par))], axis=1)

    def dof_counts(self) -> dict[str, int]:
        """Number of AMC values per bone (root: its channels; bones without dof: 0)."""
        counts = {"root": len(self.root_order)}
        counts.update({b.name: len(b.dof) for b in self.bones})
        return counts

    def fk_order(self) -> list[int]:
        """Bone indices (into ``bones``) sorted so that every parent comes before its children."""
        children: dict[str, list[int]] = {}
        for i, b in enumerate(self.bones):
            children.setdefault(self.parents[b.name], []).append(i)
        order, stack = [], ["root"]
        while stack:
            name = stack.pop()
            for i in children.get(name, []):
                order.append(i)
                stack.append(self.bones[i].name)
        return order


@dataclass
class AmcMotion:
    """A parsed AMC file: ``values[bone]`` is a (T, n_bone) float64 array of that bone's dof values.

    Values are as in the file (angles in ``angle_unit``, root translation in ASF length units).
    ``bones`` lists the bone names in the order of the first frame.
    """

    path: str
    frame_numbers: np.ndarray  # (T,) int64, as written in the file
    values: dict[str, np.ndarray]
    bones: list[str]
    angle_unit: str = "deg"  # "deg" or "rad"

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(len(self.frame_numbers))

    def take(self, frames) -> "AmcMotion":
        """A motion holding only the given frames (0-based indices into this motion)."""
        idx = np.asarray(frames, dtype=np.int64).reshape(-1)
        return AmcMotion(
            path=self.path,
            frame_numbers=self.frame_numbers[idx],
            values={b: v[idx] for b, v in self.values.items()},
            bones=list(self.bones),
            angle_unit=self.angle_unit,
        )


# ---------------------------------------------------------------------------------- reading
def _read_lines(path: Path) -> list[str]:
    """File lines without line endings; Latin-1 so that any byte decodes."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    # split on \n only: str.splitlines would also split on Latin-1 control bytes such as 0x85
    return [ln.rstrip("\r") for ln in data.decode("latin-1").split("\n")]


def _float(tok: str, path: Path, line: int, what: str, finite: bool = True) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise SkeletonFormatError(
            path, line, f"expected a number for {what}, got {tok!r}"
        ) from None
    if finite and not math.isfinite(v):
        raise SkeletonFormatError(path, line, f"{what} is {tok!r}; expected a finite number")
    return v


def _floats(toks: list[str], n: int, path: Path, line: int, what: str) -> np.ndarray:
    if len(toks) != n:
        raise SkeletonFormatError(
            path, line, f"expected {n} numbers for {what}, got {len(toks)}: {' '.join(toks)!r}"
        )
    return np.array([_float(t, path, line, f"{what} value {k + 1}") for k, t in enumerate(toks)])


def _check_order(tok: str, path: Path, line: int, what: str) -> str:
    order = tok.upper()
    if len(order) != 3 or sorted(order) != ["X", "Y", "Z"]:
        raise SkeletonFormatError(
            path, line, f"expected a rotation order such as XYZ for {what}, got {tok!r}"
        )
    return order


def parse_asf(path: str | os.PathLike) -> AsfSkeleton:
    """Parse an Acclaim ASF skeleton file.

    Raises :class:`SkeletonFormatError` (file, line, reason) for malformed content and
    :class:`FileNotFoundError` for a missing file.
    """
    path = Path(path)
    lines = _read_lines(path)
    sections: dict[str, int] = {}
    version, name = "", ""
    units = {"mass": 1.0, "length": 1.0, "angle": "deg"}
    root = {"order": None, "axis": "XYZ", "position": np.zeros(3), "orientation": np.zeros(3)}
    raw_bones: list[dict] = []
    hierarchy: list[tuple[int, list[str]]] = []
    section = None
    bone: dict | None = None
    pending_limits: dict | None = None  # bone whose ``limits`` continue on following lines
    in_hier_block = False

    for lineno, line in enumerate(lines, 1):
        toks = line.split()
        if not toks or toks[0].startswith("#"):
            continue
        head = toks[0]
        if head.startswith(":"):
            if bone is not None:
                raise SkeletonFormatError(
                    path, lineno, f"bone starting at line {bone['line']} has no 'end' before {head}"
                )
            section = head[1:].lower()
            sections[section] = lineno
            pending_limits = None
            if section == "version":
                version = " ".join(toks[1:])
            elif section == "name":
                name = " ".join(toks[1:])
            continue
        if section == "units":
            if len(toks) != 2:
                raise SkeletonFormatError(
                    path, lineno, f"expected 'key value' in :units, got {line.strip()!r}"
                )
            key = head.lower()
            if key == "angle":
                if toks[1].lower() not in ("deg", "rad"):
                    raise SkeletonFormatError(
                        path, lineno, f"expected 'angle deg' or 'angle rad', got {toks[1]!r}"
                    )
                units["angle"] = toks[1].lower()
            else:
                units[key] = _float(toks[1], path, lineno, f"units {key}")
                if key == "length" and units[key] <= 0:
                    raise SkeletonFormatError(
                        path, lineno, f"units length must be positive, got {toks[1]}"
                    )
        elif section == "root":
            key = head.lower()
            if key == "order":
                chans = tuple(t.upper() for t in toks[1:])
                bad = [c for c in chans if c not in _ROOT_CHANNELS]
                if bad or len(set(chans)) != len(chans) or not chans:
                    raise SkeletonFormatError(
                        path,
                        lineno,
                        f"root order must list channels out of {' '.join(_ROOT_CHANNELS)} once "
                        f"each, got {' '.join(toks[1:])!r}",
                    )
                root["order"] = chans
            elif key == "axis":
                if len(toks) != 2:
                    raise SkeletonFormatError(
                        path, lineno, f"expected 'axis XYZ' for the root, got {line.strip()!r}"
                    )
                root["axis"] = _check_order(toks[1], path, lineno, "root axis")
            elif key in ("position", "orientation"):
                root[key] = _floats(toks[1:], 3, path, lineno, f"root {key}")
            else:
                raise SkeletonFormatError(
                    path,
                    lineno,
                    f"unknown root entry {head!r}; expected order, axis, position or orientation",
                )
        elif section == "bonedata":
            key = head.lower()
            if bone is None:
                if key != "begin":
                    raise SkeletonFormatError(
                        path,
                        lineno,
                        f"expected 'begin' of a bone in :bonedata, got {line.strip()!r}",
                    )
                bone = {"line": lineno}
                continue
            if pending_limits is not None and head.startswith("("):
                pending_limits["limits_text"] += " " + line
                continue
            pending_limits = None
            if key == "end":
                raw_bones.append(bone)
                bone = None
            elif key == "id":
                bone["id"] = (
                    int(_float(toks[1], path, lineno, "bone id")) if len(toks) == 2 else None
                )
            elif key == "name":
                if len(toks) != 2:
                    raise SkeletonFormatError(
                        path, lineno, f"expected 'name BONE', got {line.strip()!r}"
                    )
                bone["name"] = toks[1]
            elif key == "direction":
                bone["direction"] = _floats(toks[1:], 3, path, lineno, "bone direction")
            elif key == "length":
                bone["length"] = _floats(toks[1:], 1, path, lineno, "bone length")[0]
                if bone["length"] < 0:
                    raise SkeletonFormatError(
                        path, lineno, f"bone length must be >= 0, got {toks[1]}"
                    )
            elif key == "axis":
                if len(toks) != 5:
                    raise SkeletonFormatError(
                        path, lineno, f"expected 'axis ax ay az ORDER', got {line.strip()!r}"
                    )
                bone["axis"] = _floats(toks[1:4], 3, path, lineno, "bone axis")
                bone["axis_order"] = _check_order(toks[4], path, lineno, "bone axis")
            elif key == "dof":
                dof = tuple(t.lower() for t in toks[1:])
                bad = [d for d in dof if d not in _ROT_DOFS]
                if bad or len(set(dof)) != len(dof):
                    raise SkeletonFormatError(
                        path,
                        lineno,
                        f"supported dof are rx, ry, rz, each once; got {' '.join(toks[1:])!r}",
                    )
                bone["dof"] = dof
                bone["dof_line"] = lineno
            elif key == "limits":
                bone["limits_text"] = line.split(None, 1)[1] if len(toks) > 1 else ""
                bone["limits_line"] = lineno
                pending_limits = bone
            # other keys (bodymass, cofmass, ...) carry nothing we use
        elif section == "hierarchy":
            key = head.lower()
            if key == "begin":
                in_hier_block = True
            elif key == "end":
                in_hier_block = False
            elif in_hier_block:
                if len(toks) < 2:
                    raise SkeletonFormatError(
                        path,
                        lineno,
                        f"expected 'parent child [child ...]' in :hierarchy, got {line.strip()!r}",
                    )
                hierarchy.append((lineno, toks))
            else:
                raise SkeletonFormatError(
                    path, lineno, f"expected 'begin' in :hierarchy, got {line.strip()!r}"
                )
    if bone is not None:
        raise SkeletonFormatError(path, bone["line"], "bone has no 'end' (file truncated?)")
    if "bonedata" not in sections:
        raise SkeletonFormatError(path, None, "no :bonedata section; an ASF file needs one")
    if "hierarchy" not in sections:
        raise SkeletonFormatError(path, None, "no :hierarchy section; an ASF file needs one")
    if not raw_bones:
        raise SkeletonFormatError(path, sections["bonedata"], ":bonedata holds no bones")
    if root["order"] is None:
        raise SkeletonFormatError(
            path,
            sections.get("root"),
            "the root has no 'order' line (e.g. 'order TX TY TZ RX RY RZ')",
        )

    to_rad = math.pi / 180.0 if units["angle"] == "deg" else 1.0
    bones: list[AsfBone] = []
    seen: set[str] = {"root"}
    for rb in raw_bones:
        for key in ("name", "direction", "length", "axis"):
            if key not in rb:
                raise SkeletonFormatError(path, rb["line"], f"bone has no '{key}' line")
        if rb["name"] in seen:
            raise SkeletonFormatError(path, rb["line"], f"bone name {rb['name']!r} is used twice")
        seen.add(rb["name"])
        direction = rb["direction"]
        norm = float(np.linalg.norm(direction))
        if norm == 0.0 and rb["length"] > 0:
            raise SkeletonFormatError(
                path, rb["line"], f"bone {rb['name']!r} has a zero direction vector"
            )
        dof = rb.get("dof", ())
        limits = np.full((len(dof), 2), [-np.inf, np.inf])
        if "limits_text" in rb:
            pairs = _LIMIT_RE.findall(rb["limits_text"])
            if len(pairs) != len(dof):
                raise SkeletonFormatError(
                    path,
                    rb["limits_line"],
                    f"bone {rb['name']!r} has {len(pairs)} limit pairs for {len(dof)} dof; "
                    "expected '(min max)' per dof",
                )
            for k, (lo, hi) in enumerate(pairs):
                limits[k] = [
                    _float(lo, path, rb["limits_line"], "a limit", finite=False),
                    _float(hi, path, rb["limits_line"], "a limit", finite=False),
                ]
            limits = limits * to_rad
        bones.append(
            AsfBone(
                name=rb["name"],
                id=rb.get("id"),
                direction=direction / norm if norm > 0 else direction,
                length=float(rb["length"]),
                axis=rb["axis"] * to_rad,
                axis_order=rb["axis_order"],
                dof=dof,
                limits=limits,
                line=rb["line"],
            )
        )

    parents: dict[str, str] = {}
    for lineno, toks in hierarchy:
        parent, children = toks[0], toks[1:]
        if parent not in seen:
            raise SkeletonFormatError(
                path,
                lineno,
                f"unknown bone {parent!r} in :hierarchy (not in :bonedata and not 'root')",
            )
        for child in children:
            if child not in seen or child == "root":
                raise SkeletonFormatError(
                    path, lineno, f"unknown bone {child!r} in :hierarchy (not in :bonedata)"
                )
            if child in parents:
                raise SkeletonFormatError(
                    path,
                    lineno,
                    f"bone {child!r} gets a second parent ({parent!r}; first {parents[child]!r})",
                )
            parents[child] = parent
    orphans = [b for b in bones if b.name not in parents]
    if orphans:
        raise SkeletonFormatError(
            path,
            sections["hierarchy"],
            f"bones not attached in :hierarchy: {', '.join(b.name for b in orphans)}",
        )

    skel = AsfSkeleton(
        path=str(path),
        name=name,
        version=version,
        length_unit=float(units["length"]),
        mass_unit=float(units["mass"]),
        angle_unit=str(units["angle"]),
        root_order=root["order"],
        root_axis=root["axis"],
        root_position=root["position"],
        root_orientation=root["orientation"] * to_rad,
        bones=bones,
        parents=parents,
    )
    if len(skel.fk_order()) != len(bones):  # a loop that never reaches the root
        reached = {bones[i].name for i in skel.fk_order()}
        cut = [b.name for b in bones if b.name not in reached]
        raise SkeletonFormatError(
            path,
            sections["hierarchy"],
            f"bones not connected to the root (a cycle?): {', '.join(cut)}",
        )
    return skel


def parse_amc(path: str | os.PathLike, skeleton: AsfSkeleton | None = None) -> AmcMotion:
    """Parse an Acclaim AMC motion file.

    With ``skeleton``, every bone must exist in it and carry as many values as it has dof (the
    root: one per ``order`` channel), and every frame must list every bone that has dof. Without
    it, the first frame defines the bones and their value counts. Frame numbers must count up
    by one from the first (which may be any number): the frames are read as a regular grid at
    the file's frame rate, so a skipped or repeated number is an error, not a gap to paper
    over. Raises :class:`SkeletonFormatError` (a :class:`ValueError`) naming the file and line.
    """
    path = Path(path)
    lines = _read_lines(path)
    expected = skeleton.dof_counts() if skeleton is not None else None
    angle_unit = "deg"
    i = 0
    # header: comments and keywords up to the first frame number
    while i < len(lines):
        toks = lines[i].split()
        if not toks or toks[0].startswith("#"):
            i += 1
            continue
        if toks[0].startswith(":"):
            if toks[0].upper() == ":RADIANS":
                angle_unit = "rad"
            elif toks[0].upper() == ":DEGREES":
                angle_unit = "deg"
            i += 1
            continue
        break
    frame_numbers: list[str] = []
    frame_lines: list[int] = []
    per_bone: dict[str, list[str]] = {}
    counts: dict[str, int] = {} if expected is None else expected
    required = set() if expected is None else {b for b, n in expected.items() if n > 0}
    order: list[str] = []
    current: set[str] = set()

    def close_frame(next_line: int) -> None:
        nonlocal required
        if not frame_numbers:
            return
        if expected is None and len(frame_numbers) == 1:
            required = set(current)
        missing = required - current
        if missing:
            where = "the end of the file" if next_line > len(lines) else f"line {next_line}"
            names = ", ".join(sorted(missing))
            raise SkeletonFormatError(
                path,
                frame_lines[-1],
                f"frame {frame_numbers[-1]} lacks bone(s) {names} before {where} (file truncated?)",
            )
        extra = current - required if expected is None else set()
        if extra:
            raise SkeletonFormatError(
                path,
                frame_lines[-1],
                f"frame {frame_numbers[-1]} has bone(s) {', '.join(sorted(extra))} that the first "
                "frame does not have",
            )

    for lineno in range(i + 1, len(lines) + 1):
        toks = lines[lineno - 1].split()
        if not toks:
            continue
        head = toks[0]
        if len(toks) == 1 and head.isdigit():
            close_frame(lineno)
            if frame_numbers and int(head) != int(frame_numbers[-1]) + 1:
                # frames are placed on a regular grid by their order (HDM05: 1/120 s apart),
                # so a skipped or repeated number would shift every later frame in time
                kind = "repeats or goes back" if int(head) <= int(frame_numbers[-1]) else "skips"
                raise SkeletonFormatError(
                    path,
                    lineno,
                    f"frame number {head} {kind}: after frame {frame_numbers[-1]} (line "
                    f"{frame_lines[-1]}) expected frame {int(frame_numbers[-1]) + 1}; frames "
                    "must be numbered consecutively to be read at the file's frame rate",
                )
            frame_numbers.append(head)
            frame_lines.append(lineno)
            current = set()
            continue
        if head.startswith("#"):
            continue
        if not frame_numbers:
            raise SkeletonFormatError(
                path, lineno, f"expected a frame number line, got {lines[lineno - 1].strip()!r}"
            )
        n = len(toks) - 1
        want = counts.get(head)
        if want is None:
            if expected is not None:
                raise SkeletonFormatError(
                    path, lineno, f"bone {head!r} is not in the skeleton {skeleton.path}"
                )
            if len(frame_numbers) > 1:
                raise SkeletonFormatError(
                    path, lineno, f"bone {head!r} does not appear in the first frame"
                )
            counts[head] = want = n
        if n != want:
            raise SkeletonFormatError(
                path,
                lineno,
                f"bone {head!r} has {n} values; expected {want}" + _dof_hint(skeleton, head),
            )
        if head in current:
            raise SkeletonFormatError(
                path, lineno, f"bone {head!r} appears twice in frame {frame_numbers[-1]}"
            )
        current.add(head)
        if len(frame_numbers) == 1:
            order.append(head)
        per_bone.setdefault(head, []).extend(toks[1:])
    close_frame(len(lines) + 1)
    if not frame_numbers:
        raise SkeletonFormatError(path, None, "the file holds no frames")

    t = len(frame_numbers)
    values: dict[str, np.ndarray] = {}
    for bone, toks in per_bone.items():
        try:
            arr = np.array(toks, dtype=np.float64)
        except ValueError:
            arr = None
        if arr is None or not np.isfinite(arr).all():
            _raise_bad_number(path, lines, i, bone)
        values[bone] = arr.reshape(t, counts[bone])
    if skeleton is not None:
        for bone in skeleton.dof_counts():
            values.setdefault(bone, np.zeros((t, 0)))
    return AmcMotion(
        path=str(path),
        frame_numbers=np.array(frame_numbers, dtype=np.int64),
        values=values,
        bones=order,
        angle_unit=angle_unit,
    )


def _dof_hint(skeleton: AsfSkeleton | None, bone: str) -> str:
    if skeleton is None:
        return " (as in the first frame)"
    if bone == "root":
        return f" (root order {' '.join(skeleton.root_order)})"
    dof = skeleton.bone(bone).dof
    return f" (dof {' '.join(dof)})" if dof else " (the bone has no dof)"


def _raise_bad_number(path: Path, lines: list[str], start: int, bone: str) -> None:
    """Find the first non-numeric or non-finite value of ``bone`` and raise with its line."""
    for lineno in range(start + 1, len(lines) + 1):
        toks = lines[lineno - 1].split()
        if toks and toks[0] == bone:
            for k, tok in enumerate(toks[1:]):
                _float(tok, path, lineno, f"bone {bone!r} value {k + 1}")
    raise SkeletonFormatError(
        path, None, f"bone {bone!r} holds a value that is not a finite number"
    )


# ---------------------------------------------------------------------------------- kinematics
def rest_pose(skeleton: AsfSkeleton, *, metres: bool = True) -> np.ndarray:
    """(1 + len(bones), 3) joint positions with every dof at zero (the ASF's own pose).

    The root is placed at the ASF's root position.
    """
    zero = AmcMotion(
        path=skeleton.path,
        frame_numbers=np.zeros(1, dtype=np.int64),
        values={"root": np.zeros((1, len(skeleton.root_order)))}
        | {b.name: np.zeros((1, len(b.dof))) for b in skeleton.bones},
        bones=skeleton.joint_names,
    )
    chans = list(skeleton.root_order)
    for k, c in enumerate(("TX", "TY", "TZ")):
        if c in chans:
            zero.values["root"][0, chans.index(c)] = skeleton.root_position[k]
    return forward_kinematics(skeleton, zero, metres=metres)[0]


def forward_kinematics(
    skeleton: AsfSkeleton, motion: AmcMotion, *, metres: bool = True
) -> np.ndarray:
    """Joint positions of every frame, vectorised over frames.

    Returns (T, 1 + len(skeleton.bones), 3) float64: joint 0 is the root, joint ``k`` the end
    point of ``skeleton.bones[k - 1]``. Positions are in metres (``metres=False``: ASF units).
    See the module docstring for the conventions.
    """
    t = motion.num_frames
    to_rad = math.pi / 180.0 if motion.angle_unit == "deg" else 1.0
    nb = len(skeleton.bones)
    pos = np.zeros((t, nb + 1, 3))
    rot = np.zeros((t, nb + 1, 3, 3))

    if "root" not in motion.values or motion.values["root"].shape[1] != len(skeleton.root_order):
        raise SkeletonFormatError(
            motion.path,
            None,
            "the motion has no root values matching the root order "
            f"{' '.join(skeleton.root_order)} of {skeleton.path}",
        )
    rv = motion.values["root"]
    chan = {c: rv[:, k] for k, c in enumerate(skeleton.root_order)}
    zero = np.zeros(t)
    pos[:, 0] = np.stack([chan.get(c, zero) for c in ("TX", "TY", "TZ")], axis=1)
    rot_chans = [c for c in skeleton.root_order if c.startswith("R")]
    m_root = euler_matrix(
        np.stack([chan[c] for c in rot_chans], axis=1) * to_rad, "".join(c[1] for c in rot_chans)
    )
    c_root = euler_matrix(skeleton.root_orientation, skeleton.root_axis)
    rot[:, 0] = c_root @ m_root @ c_root.T

    index = {n: k for k, n in enumerate(skeleton.joint_names)}
    for bi in skeleton.fk_order():
        bone = skeleton.bones[bi]
        j, p = bi + 1, index[skeleton.parents[bone.name]]
        if bone.dof:
            vals = motion.values.get(bone.name)
            if vals is None or vals.shape[1] != len(bone.dof):
                raise SkeletonFormatError(
                    motion.path,
                    None,
                    f"the motion has no values for bone {bone.name!r} (dof {' '.join(bone.dof)}) "
                    f"of {skeleton.path}",
                )
            c = bone.frame
            local = c @ euler_matrix(vals * to_rad, "".join(d[1] for d in bone.dof)) @ c.T
            rot[:, j] = rot[:, p] @ local
        else:
            rot[:, j] = rot[:, p]
        pos[:, j] = pos[:, p] + rot[:, j] @ (bone.direction * bone.length)
    if metres:
        pos *= skeleton.metres_per_unit
    return pos
