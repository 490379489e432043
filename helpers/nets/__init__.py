"""The networks.

Skeleton graphs, ST-GCN, a second architecture (CompactGCN), and the wrapper that gives any
block-structured network the interface the tools need.

The package map is in the README (Modules).
"""

from helpers.nets.block_model import (
    BlockModel,
    BlockwiseModel,
    forward_takes_lengths,
    require_block_model,
)
from helpers.nets.compact_gcn import CompactBlock, CompactGCN
from helpers.nets.frame_packing import QUANTUM, FrameLayout, pack_layouts
from helpers.nets.skeleton_graph import CENTER_DISTANCES, STRATEGIES, SkeletonGraph
from helpers.nets.stgcn import (
    INITS,
    REFERENCE_DROPOUT,
    REFERENCE_SCHEDULE,
    STGCN,
    SpatialGraphConv,
    STGCNBlock,
    masked_batch_norm,
    time_mask,
)
from helpers.nets.validation import (
    check_input,
    check_lengths,
    check_option,
    check_state_dict,
)

__all__ = [
    "BlockModel",
    "BlockwiseModel",
    "CENTER_DISTANCES",
    "CompactBlock",
    "CompactGCN",
    "FrameLayout",
    "INITS",
    "QUANTUM",
    "REFERENCE_DROPOUT",
    "REFERENCE_SCHEDULE",
    "STGCN",
    "STGCNBlock",
    "STRATEGIES",
    "SkeletonGraph",
    "SpatialGraphConv",
    "check_input",
    "check_lengths",
    "check_option",
    "check_state_dict",
    "forward_takes_lengths",
    "masked_batch_norm",
    "pack_layouts",
    "require_block_model",
    "time_mask",
]
