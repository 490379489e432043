"""Skeleton data: one dataset type, HDM05 (ASF/AMC) and NTU RGB+D loaders, augmentation."""
from .augment import Augment, add_joint_noise
from .acclaim import SkeletonFormatError, forward_kinematics, parse_amc, parse_asf
from .dataset import SkeletonDataset, pad_sequences
from .hdm05 import HDM05_JOINT_NAMES, hdm05_edges, load_hdm05
from .ntu import (
    NtuFormatError,
    load_ntu_preprocessed,
    load_ntu_preprocessed_folder,
    load_ntu_skeletons,
    ntu_split,
    parse_ntu_name,
    read_skeleton_file,
)

__all__ = [
    "SkeletonDataset", "pad_sequences", "Augment", "add_joint_noise",
    "load_hdm05", "hdm05_edges", "HDM05_JOINT_NAMES",
    "parse_asf", "parse_amc", "forward_kinematics", "SkeletonFormatError",
    "load_ntu_skeletons", "load_ntu_preprocessed", "load_ntu_preprocessed_folder",
    "read_skeleton_file", "parse_ntu_name", "ntu_split", "NtuFormatError",
]
