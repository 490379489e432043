"""The networks.

Skeleton graphs, ST-GCN, a second architecture (CompactGCN), and the wrapper that gives any
block-structured network the interface the tools need.

The package map is in the README (Modules).
"""

from helpers.nets.block_model import BlockModel, BlockwiseModel, require_block_model
from helpers.nets.compact_gcn import CompactBlock, CompactGCN
from helpers.nets.frame_packing import QUANTUM, FrameLayout, pack_layouts
from helpers.nets.skeleton_graph import CENTER_DISTANCES, STRATEGIES, SkeletonGraph
from helpers.nets.stgcn import (
    REFERENCE_DROPOUT,
    REFERENCE_SCHEDULE,
    STGCN,
    SpatialGraphConv,
    STGCNBlock,
    checked_lengths,
    masked_batch_norm,
    time_mask,
)

__all__ = [
    "BlockModel",
    "BlockwiseModel",
    "CENTER_DISTANCES",
    "CompactBlock",
    "CompactGCN",
    "FrameLayout",
    "QUANTUM",
    "REFERENCE_DROPOUT",
    "REFERENCE_SCHEDULE",
    "STGCN",
    "STGCNBlock",
    "STRATEGIES",
    "SkeletonGraph",
    "SpatialGraphConv",
    "checked_lengths",
    "masked_batch_norm",
    "pack_layouts",
    "require_block_model",
    "time_mask",
]
