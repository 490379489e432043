"""Skeleton data: one dataset type, HDM05 (ASF/AMC) and NTU RGB+D loaders, augmentation."""

from .acclaim import SkeletonFormatError, forward_kinematics, parse_amc, parse_asf
from .augment import Augment, add_joint_noise
from .dataset import SkeletonDataset, pad_sequences
from .hdm05 import load_hdm05
from .ntu import (
    NtuFormatError,
    load_ntu_preprocessed,
    load_ntu_preprocessed_folder,
    load_ntu_skeletons,
    ntu_split,
    parse_ntu_name,
    read_skeleton_file,
)
from .resampling import resample, resample_fps

__all__ = [
    "Augment",
    "NtuFormatError",
    "SkeletonDataset",
    "SkeletonFormatError",
    "add_joint_noise",
    "forward_kinematics",
    "load_hdm05",
    "load_ntu_preprocessed",
    "load_ntu_preprocessed_folder",
    "load_ntu_skeletons",
    "ntu_split",
    "pad_sequences",
    "parse_amc",
    "parse_asf",
    "parse_ntu_name",
    "read_skeleton_file",
    "resample",
    "resample_fps",
]
