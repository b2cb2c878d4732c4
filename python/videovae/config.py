"""Model configuration: the four released variants plus configurable widths."""
from dataclasses import dataclass, field, replace
from typing import Dict, Tuple

# The released inference configs differ only in these three switches (spec §1). Widths
# (ch, hidden_channel, ...) are not part of a variant: reduced-width test models reuse the names.
CONFIGS: Dict[str, Dict[str, object]] = {
    "config_16z": {"z_channels": 16, "use_quant_conv": False, "caption": False},
    "config_4z": {"z_channels": 4, "use_quant_conv": True, "caption": False},
    "config_16z_cap": {"z_channels": 16, "use_quant_conv": False, "caption": True},
    "config_4z_cap": {"z_channels": 4, "use_quant_conv": True, "caption": True},
}

VARIANT_OF_CONFIG = {
    "config_16z": "16z",
    "config_4z": "4z",
    "config_16z_cap": "16z-text",
    "config_4z_cap": "4z-text",
}

TEXT_DIM = 1024  # flan-t5-large hidden size
TEXT_MAX_LENGTH = 100  # t5_model_max_length of the _cap configs
TEMPORAL_COMPRESSION = 4  # two stride-2 temporal convs


@dataclass(frozen=True)
class VideoVAEConfig:
    z_channels: int = 16
    use_quant_conv: bool = False
    caption: bool = False
    ch: int = 128
    ch_mult: Tuple[int, ...] = field(default=(1, 2, 4, 4))
    num_res_blocks: int = 2
    hidden_channel: int = 128
    text_dim: int = TEXT_DIM
    # 0: every GroupNorm has 32 groups (the official model). k > 0: min(32, C // k) groups, so a
    # reduced-width model keeps the official ratio of 4 channels per group (128 / 32) instead of
    # turning GroupNorm(32) on 32 channels into a per-channel norm (see norm_groups).
    norm_group_channels: int = 0
    # With norm_group_channels: the most groups a norm may have (32 like the official model; 0: no
    # limit, so layers wider than 128 keep 4 channels per group, which widening a trained model
    # without changing what it computes needs: training/widen.py).
    norm_group_limit: int = 32

    @property
    def embed_dim(self) -> int:
        # The quant convs keep the width (4 for 4z); the shipped 4z_cap yaml omits it.
        return self.z_channels

    @property
    def config_name(self) -> str:
        for name, switches in CONFIGS.items():
            if all(getattr(self, k) == v for k, v in switches.items()):
                return name
        raise ValueError("no released config has z_channels=%d, use_quant_conv=%s, caption=%s"
                         % (self.z_channels, self.use_quant_conv, self.caption))

    @property
    def variant(self) -> str:
        return VARIANT_OF_CONFIG[self.config_name]

    @property
    def spatial_compression(self) -> int:
        return 2 ** (len(self.ch_mult) - 1)

    def norm_groups(self, channels: int) -> int:
        """GroupNorm groups for a `channels`-wide layer.

        With one channel per group, GroupNorm normalises away each channel's mean and scale over
        the whole clip; before the output conv that erases absolute colour (a flat orange frame
        comes out grey), which is why small models set norm_group_channels.
        """
        if self.norm_group_channels <= 0:
            return 32
        groups = max(1, channels // self.norm_group_channels)
        if self.norm_group_limit > 0:
            groups = min(self.norm_group_limit, groups)
        if channels % groups:
            raise ValueError("%d channels do not split into %d GroupNorm groups" % (channels, groups))
        return groups

    def widths(self) -> Dict[str, object]:
        out: Dict[str, object] = {"ch": self.ch, "ch_mult": list(self.ch_mult),
                                  "num_res_blocks": self.num_res_blocks, "hidden_channel": self.hidden_channel}
        if self.norm_group_channels:
            out["norm_group_channels"] = self.norm_group_channels
        if self.norm_group_limit != 32:
            out["norm_group_limit"] = self.norm_group_limit
        return out


def config_from_name(name: str, **widths) -> VideoVAEConfig:
    """A released config by name (config_16z, ...), optionally with other widths."""
    if name not in CONFIGS:
        raise ValueError("unknown config %r; expected one of %s" % (name, ", ".join(CONFIGS)))
    return replace(VideoVAEConfig(), **CONFIGS[name], **widths)
