"""The sections of the configuration: one frozen dataclass per concern, each field documented and validated.

`radiodiff.config.Config` gathers them; `__post_init__` checks raise ConfigError naming the field (the loader adds
the section's name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from radiodiff.config_schema import ConfigError

SPEED_ONLY = {"speed_only": True}
"""Field metadata of a setting that changes how fast a job runs, never what it produces (worker counts): the
generated data set's fingerprint and `main`'s step reuse ignore it (`speed_only_keys`)."""


def _require(condition: bool, key: str, value: Any, allowed: str) -> None:
    if not condition:
        raise ConfigError(f"{key} = {value!r} is out of range; allowed: {allowed}")


@dataclass(frozen=True)
class GeneratorConfig:
    """The embedded radio-map generator (entry point `generate_data`)."""

    maps: int = 400
    """Number of city maps (ids 0..maps-1); 400 x 8 transmitters is the CPU default (~7 s to generate)."""
    tx_per_map: int = 8
    """Transmitters per map (ids 0..tx_per_map-1)."""
    size: int = 0
    """Side of the square maps in pixels (RadioMapSeer uses 256); 0: the longer side of `data.image_size`, so a
    training job's data set is generated at the resolution it trains at."""
    seed: int = 0
    """Seed of the whole data set: the same seed writes the same files."""
    frequency_ghz: float = 3.5
    """Carrier frequency in GHz (enters the free-space path loss)."""
    engine: Literal["fast", "sionna"] = "fast"
    """Propagation engine: `fast` (procedural cities, dominant path + penetration, docs/generator.md) or `sionna`
    (Sionna RT ray tracing of windows of a real 3-D city scene, the `rt` extra, docs/sionna_rt.md)."""
    metres_per_pixel: float = 4.0
    """Ground resolution (RadioMapSeer: 1 m per pixel at 256 px; 4 m at 64 px covers the same 256 m). Engine sionna:
    the solver's cell size; a window's side is size x metres_per_pixel."""
    workers: int = field(default=0, metadata=SPEED_ONLY)
    """Worker processes; 0 means one per CPU core."""
    rt_scene: str = "munich"
    """Engine sionna: a scene bundled with sionna-rt (munich, florence, etoile, ...) or the path of a Mitsuba XML
    scene (z up, metres, a ground at the receiver plane's foot)."""
    rt_min_building_fraction: float = 0.1
    """Engine sionna: a window is kept when its share of building pixels is at least this ..."""
    rt_max_building_fraction: float = 0.6
    """Engine sionna: ... and at most this (windows are drawn uniformly over the scene until one fits)."""
    rt_rx_height_m: float = 1.5
    """Engine sionna: height of the receiver plane above the ground (RadioMapSeer: 1.5 m); a pixel is a building
    where the scene's geometry rises above it."""
    rt_tx_height_m: float = 1.5
    """Engine sionna: height of the transmitters above the receiver plane (placed over free pixels)."""
    rt_max_depth: int = 5
    """Engine sionna: maximum number of interactions (reflections, diffractions, refractions) of a path."""
    rt_samples_per_tx: int = 1_000_000
    """Engine sionna: rays shot per transmitter (more rays: less Monte-Carlo noise, proportionally slower)."""
    rt_threads: int = 0
    """Engine sionna: Dr.Jit threads that trace; 0 means every core (fastest, but the cells that few rays reach can
    differ between two runs of one seed), 1 writes bit-identical maps for a seed (about 1.5x slower on 2 cores,
    docs/sionna_rt.md, Determinism)."""
    rt_los: bool = True
    """Engine sionna: line-of-sight paths."""
    rt_specular_reflection: bool = True
    """Engine sionna: specular reflections."""
    rt_diffuse_reflection: bool = False
    """Engine sionna: diffuse scattering (needs materials with a scattering coefficient; the bundled ITU materials
    have none)."""
    rt_refraction: bool = True
    """Engine sionna: transmission through walls (the only way into a deep street canyon without diffraction)."""
    rt_diffraction: bool = True
    """Engine sionna: diffraction on the buildings' wedges (about doubles the solver time)."""
    rt_simulation: str = "IRT"
    """Engine sionna: the folder under `gain/` that holds the ray-traced maps (data.simulation `auto` reads it)."""
    indoor_buildings: int = 8
    """Layout icassp (`data.layout`): floor plans B1..B{n}, each with 5 antennas x 3 frequencies x
    `indoor_tx_per_setting` transmitters (docs/icassp.md); the fields above up to `metres_per_pixel` are the
    outdoor generator's."""
    indoor_min_side: int = 40
    """Layout icassp: smallest side of a building image in pixels (0.25 m each); each side is drawn in
    min_side .. max_side."""
    indoor_max_side: int = 120
    """Layout icassp: largest side of a building image in pixels (the challenge's reach ~640)."""
    indoor_tx_per_setting: int = 4
    """Layout icassp: transmitters (samples S0..) per building, antenna and frequency (the challenge: 50 for Ant1,
    80 for the others)."""

    def __post_init__(self) -> None:
        _require(self.maps >= 1, "maps", self.maps, "an integer >= 1")
        _require(self.tx_per_map >= 1, "tx_per_map", self.tx_per_map, "an integer >= 1")
        _require(self.size == 0 or 32 <= self.size <= 2048, "size", self.size, "0 (data.image_size) or 32 .. 2048")
        _require(0.1 <= self.frequency_ghz <= 100, "frequency_ghz", self.frequency_ghz, "0.1 .. 100")
        _require(self.metres_per_pixel > 0, "metres_per_pixel", self.metres_per_pixel, "> 0")
        _require(self.workers >= 0, "workers", self.workers, "0 (all cores) or more")
        _require(bool(self.rt_scene.strip()), "rt_scene", self.rt_scene, "a bundled scene name or an XML path")
        low, high = self.rt_min_building_fraction, self.rt_max_building_fraction
        _require(0 <= low < 1, "rt_min_building_fraction", low, "0 .. 1 (exclusive)")
        _require(
            low <= high < 1, "rt_max_building_fraction", high, f"rt_min_building_fraction ({low}) .. 1 (exclusive)"
        )
        _require(self.rt_rx_height_m > 0, "rt_rx_height_m", self.rt_rx_height_m, "> 0")
        _require(self.rt_tx_height_m > 0, "rt_tx_height_m", self.rt_tx_height_m, "> 0")
        _require(1 <= self.rt_max_depth <= 10, "rt_max_depth", self.rt_max_depth, "1 .. 10")
        samples_ok = 1_000 <= self.rt_samples_per_tx <= 100_000_000
        _require(samples_ok, "rt_samples_per_tx", self.rt_samples_per_tx, "1000 .. 100000000")
        _require(self.rt_threads >= 0, "rt_threads", self.rt_threads, "0 (every core) or more")
        simulation_ok = self.rt_simulation not in ("", "auto") and "/" not in self.rt_simulation
        _require(simulation_ok, "rt_simulation", self.rt_simulation, "a folder name other than auto (IRT, ...)")
        _require(self.indoor_buildings >= 1, "indoor_buildings", self.indoor_buildings, "an integer >= 1")
        _require(32 <= self.indoor_min_side <= 1024, "indoor_min_side", self.indoor_min_side, "32 .. 1024")
        sides_ok = self.indoor_min_side <= self.indoor_max_side <= 1024
        _require(sides_ok, "indoor_max_side", self.indoor_max_side, f"indoor_min_side ({self.indoor_min_side}) .. 1024")
        tx_ok = self.indoor_tx_per_setting >= 1
        _require(tx_ok, "indoor_tx_per_setting", self.indoor_tx_per_setting, "an integer >= 1")


@dataclass(frozen=True)
class DataConfig:
    """Where the radio maps come from and how they are shaped into training samples."""

    data_dir: str = ""
    """Data root in the layout `layout`; empty: the `generator` section's data set of that layout (made on demand)."""
    layout: Literal["radiomapseer", "icassp"] = "radiomapseer"
    """radiomapseer: outdoor city maps of path gain (FACTS §1); icassp: the ICASSP 2025 indoor challenge layout,
    maps of path loss in dB at their own variable sizes (FACTS §4, docs/icassp.md). Also the layout that the
    generator writes."""
    target: Literal["radio", "building", "antenna"] = "radio"
    """The image a first stage (VAE) learns: radio (the radio map); on the icassp layout also building
    (reflectance + transmittance, 2 channels) or antenna (free-space loss with the antenna pattern, 1 channel)."""
    simulation: str = "auto"
    """Folder under `gain/` holding the target maps (DPM, IRT2, carsDPM, ...); auto: the root's own, as its
    generator.json records it (the fast engine's DPM, Sionna RT's IRT), else DPM."""
    setting: Literal["static", "dynamic"] = "static"
    """static (SRM): condition [buildings, tx, buildings]; dynamic (DRM): [buildings, tx, cars]."""
    image_size: tuple[int, int] = (64, 64)
    """(H, W) every map is resized to before cropping."""
    split: Literal["leak_free", "radiodiff_seed42", "random"] = "leak_free"
    """leak_free: no test sample shares its scene with a training one: disjoint maps (radiomapseer), or the
    challenge's three test sets (icassp: held-out buildings, `held_out_frequency`, `held_out_antenna`;
    radiodiff/data/icassp/challenge.py); radiodiff_seed42: the public code's split (radiomapseer, FACTS §1);
    random: samples shuffled (icassp)."""
    held_out_frequency: int = 3
    """icassp challenge split: the frequency token (1: 868 MHz, 2: 1.8 GHz, 3: 3.5 GHz) of Task 2's test set."""
    held_out_antenna: int = 5
    """icassp challenge split: the antenna (2..5, a directional pattern) of Task 3's test set."""
    val_fraction: float = 0.1
    """Share of maps held out for validation (leak_free split)."""
    test_fraction: float = 0.1
    """Share of maps held out for testing (leak_free split)."""
    split_seed: int = 0
    """Seed of the leak_free split's shuffle."""
    tx_radius: int = 2
    """Radius in pixels of the transmitter marker drawn in the condition (0: one pixel, as RadioMapSeer's at 256
    px; 2: visible at the CPU default's 64 px)."""
    physics_prior: bool = False
    """Static setting: the condition's third channel carries the free-space path gain's shape around the
    transmitter (radiodiff/data/condition.py) instead of a second copy of the buildings; off in the paper configs."""
    crop_size: tuple[int, int] | None = None
    """(H, W) of tx-aware random training crops; null keeps whole maps."""
    crop_tx_margin: int = 4
    """Minimum distance in pixels between the transmitter and the crop border."""
    batch_size: int = 8
    """Samples per micro-batch (per process) of every stage whose own `*_train.batch_size` is 0."""
    num_workers: int = field(default=0, metadata=SPEED_ONLY)
    """DataLoader worker processes."""

    def __post_init__(self) -> None:
        h, w = self.image_size
        _require(h >= 8 and w >= 8, "image_size", list(self.image_size), "both sides >= 8")
        _require(0 <= self.val_fraction < 1, "val_fraction", self.val_fraction, "0 <= x < 1")
        _require(0 <= self.test_fraction < 1, "test_fraction", self.test_fraction, "0 <= x < 1")
        total = self.val_fraction + self.test_fraction
        _require(total < 1, "val_fraction + test_fraction", total, "< 1")
        if self.crop_size is not None:
            ch, cw = self.crop_size
            fits = 8 <= ch <= h and 8 <= cw <= w
            _require(fits, "crop_size", list(self.crop_size), f"8 .. image_size {[h, w]}")
            margin_ok = 0 <= 2 * self.crop_tx_margin < min(ch, cw)
            _require(margin_ok, "crop_tx_margin", self.crop_tx_margin, "0 <= 2*margin < crop side")
        _require(0 <= self.tx_radius <= 16, "tx_radius", self.tx_radius, "0 .. 16 pixels")
        _require(self.batch_size >= 1, "batch_size", self.batch_size, ">= 1")
        _require(self.num_workers >= 0, "num_workers", self.num_workers, ">= 0")
        self._check_layout()
        prior_fits = not self.physics_prior or self.setting == "static"
        _require(
            prior_fits,
            "physics_prior",
            self.physics_prior,
            "false in the dynamic setting (its third channel holds the cars)",
        )

    def _check_layout(self) -> None:
        """The split, target and setting each layout supports."""
        splits = {"radiomapseer": ("leak_free", "radiodiff_seed42"), "icassp": ("leak_free", "random")}[self.layout]
        _require(self.split in splits, "split", self.split, f"on the {self.layout} layout {' or '.join(splits)}")
        targets = ("radio",) if self.layout == "radiomapseer" else ("radio", "building", "antenna")
        _require(self.target in targets, "target", self.target, f"on the {self.layout} layout {', '.join(targets)}")
        if self.layout == "icassp":
            _require(self.setting == "static", "setting", self.setting, "static on the icassp layout")
            _require(1 <= self.held_out_frequency <= 3, "held_out_frequency", self.held_out_frequency, "1 .. 3")
            _require(2 <= self.held_out_antenna <= 5, "held_out_antenna", self.held_out_antenna, "2 .. 5")


@dataclass(frozen=True)
class TrackingConfig:
    """How runs are recorded in MLflow."""

    experiment: str = ""
    """MLflow experiment name; empty: MLflow's own choice (`--experiment-name`, MLFLOW_EXPERIMENT_NAME or
    MLFLOW_EXPERIMENT_ID, else "Default"), so `radiodiff <job>` lands where `mlflow run . -e <job>` would."""
    log_every: int = 10
    """Log training metrics every N optimisation steps."""
    async_logging: bool = True
    """Deliver metrics, tags, images and checkpoint uploads from a background thread through a journal on local
    disk (radiodiff/tracking/outbox.py): training never waits for the store and survives its outages; false:
    every metric call waits until the store holds it."""
    system_metrics: bool = True
    """Record CPU/GPU/memory usage as system/* metrics."""
    heartbeat_s: int = 60
    """Seconds between the heartbeats of a running job (tag `radiodiff.heartbeat`); a RUNNING run whose heartbeat
    is older than twice this is dead (its process is gone)."""
    outage_wait_s: int = 3600
    """How long a job that has finished its work waits for an unreachable tracking server to take its last
    records; then it stops (exit 2) with the records kept on disk for `radiodiff sync RUN_ID` or a resume."""

    def __post_init__(self) -> None:
        _require(self.log_every >= 1, "log_every", self.log_every, ">= 1")
        bare = self.experiment == self.experiment.strip()
        _require(bare, "experiment", self.experiment, "a name without surrounding spaces, or empty (MLflow's choice)")
        _require(self.heartbeat_s >= 1, "heartbeat_s", self.heartbeat_s, ">= 1 second")
        _require(self.outage_wait_s >= 0, "outage_wait_s", self.outage_wait_s, ">= 0 seconds")


@dataclass(frozen=True)
class VAEConfig:
    """KL autoencoder (first stage, FACTS §2). Paper: channels 128, channel_mult [1, 2, 4], 2 res blocks, z 3."""

    in_channels: int = 1
    """Channels of the radio map (1: path gain)."""
    channels: int = 32
    """Width of the first level."""
    channel_mult: tuple[int, ...] = (1, 2, 4)
    """Width multiplier per level; the latent is downsampled by 2**(levels - 1)."""
    num_res_blocks: int = 1
    """Residual blocks per encoder level (the decoder uses one more per level, as the reference LDM)."""
    z_channels: int = 3
    """Channels of the encoder output before the posterior projection."""
    embed_dim: int = 3
    """Latent channels (the LDM's working space)."""
    dropout: float = 0.0
    """Dropout inside residual blocks."""

    def __post_init__(self) -> None:
        _require(self.in_channels >= 1, "in_channels", self.in_channels, ">= 1")
        _require(self.channels >= 8 and self.channels % 8 == 0, "channels", self.channels, "a multiple of 8")
        mults_ok = len(self.channel_mult) >= 1 and all(m >= 1 for m in self.channel_mult)
        _require(mults_ok, "channel_mult", list(self.channel_mult), "a non-empty list of integers >= 1")
        _require(self.num_res_blocks >= 1, "num_res_blocks", self.num_res_blocks, ">= 1")
        _require(self.z_channels >= 1, "z_channels", self.z_channels, ">= 1")
        _require(self.embed_dim >= 1, "embed_dim", self.embed_dim, ">= 1")
        _require(0 <= self.dropout < 1, "dropout", self.dropout, "0 <= x < 1")


@dataclass(frozen=True)
class VAELossConfig:
    """Two-phase VAE-GAN loss (FACTS §2): reconstruction + KL, then a PatchGAN from `disc_start` on."""

    l1_weight: float = 1.0
    """Weight of the L1 reconstruction term."""
    l2_weight: float = 1.0
    """Weight of the L2 (MSE) reconstruction term."""
    kl_weight: float = 1e-6
    """Weight of the KL divergence to N(0, I)."""
    disc_start: int = 100_001
    """Optimisation step at which the discriminator and the GAN loss switch on (phase 2; paper: 50001). The CPU
    default lies beyond `vae_train.steps`: without the GAN phase the reconstruction floor is 0.053 test RMSE against
    0.064 with it (SSIM 0.877 against 0.812), and RadioDiff on top scores better (docs/quality.md)."""
    disc_weight: float = 0.5
    """Factor on the adaptive generator weight."""
    disc_layers: int = 3
    """Strided conv layers of the PatchGAN discriminator."""
    disc_channels: int = 32
    """Width of the discriminator's first layer (paper: 64)."""
    disc_lr: float = 0.0
    """Discriminator learning rate; 0 means the same as the autoencoder's."""
    d_weight_max: float = 1e4
    """Clamp of the adaptive weight |grad rec| / (|grad gan| + 1e-4)."""

    def __post_init__(self) -> None:
        for key in ("l1_weight", "l2_weight", "kl_weight", "disc_weight", "disc_lr", "d_weight_max"):
            _require(getattr(self, key) >= 0, key, getattr(self, key), ">= 0")
        _require(self.disc_start >= 0, "disc_start", self.disc_start, ">= 0")
        _require(1 <= self.disc_layers <= 6, "disc_layers", self.disc_layers, "1 .. 6")
        _require(self.disc_channels >= 8, "disc_channels", self.disc_channels, ">= 8")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation, precision, safety and logging cadence of one training job (VAE or LDM)."""

    steps: int = 300
    """Optimisation steps (after gradient accumulation)."""
    lr: float = 2e-4
    """Peak learning rate of AdamW."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    betas: tuple[float, float] = (0.5, 0.9)
    """AdamW betas."""
    warmup_steps: int = 20
    """Linear warm-up from 0 to `lr` (longer than `steps`: the whole run warms up, e.g. a 2-step smoke test)."""
    schedule: Literal["cosine", "polynomial", "constant"] = "cosine"
    """Decay after warm-up."""
    lr_floor: float = 0.1
    """Final learning rate as a fraction of `lr` (a real floor: the decay ends there)."""
    poly_power: float = 1.0
    """Power of the polynomial decay."""
    grad_clip: float = 1.0
    """Max global gradient norm (clipped before the optimiser step); 0 disables clipping."""
    grad_accum: int = 1
    """Micro-batches accumulated per optimisation step."""
    batch_size: int = 0
    """Maps per micro-batch and process for this stage; 0: `data.batch_size` (`batch_for`)."""
    ema_decay: float = 0.999
    """Decay of the exponential moving average of the weights; 0 disables EMA."""
    mixed_precision: Literal["auto", "no", "bf16"] = "auto"
    """auto: bf16 autocast where the device supports it (CUDA with bf16), fp32 otherwise."""
    seed: int = 0
    """Seed of weights, data order and noise."""
    val_every: int = 100
    """Validate every N steps (and at the last step)."""
    val_batches: int = 4
    """Validation batches per evaluation (0: the whole validation split)."""
    sample_every: int = 100
    """Log a sample grid every N steps (and at the last step)."""
    checkpoint_every: int = 100
    """Write `checkpoints/last` every N steps (and at the last step)."""
    nan_max_consecutive: int = 3
    """After this many consecutive non-finite steps, restore the last good checkpoint and lower the LR."""
    nan_lr_factor: float = 0.5
    """LR multiplier applied on each restore after non-finite steps."""
    collective_timeout_s: int = 600
    """Seconds a process waits in a collective (gradients, validation, checkpoints) before the job fails: a
    process that died takes the others down within this time, leaving the last checkpoint usable."""

    def batch_for(self, data: DataConfig) -> int:
        """This stage's maps per micro-batch and process: its own `batch_size`, else the data section's."""
        return self.batch_size or data.batch_size

    def __post_init__(self) -> None:
        _require(self.steps >= 1, "steps", self.steps, ">= 1")
        _require(self.lr > 0, "lr", self.lr, "> 0")
        _require(self.weight_decay >= 0, "weight_decay", self.weight_decay, ">= 0")
        _require(all(0 <= b < 1 for b in self.betas), "betas", list(self.betas), "two values in [0, 1)")
        _require(self.warmup_steps >= 0, "warmup_steps", self.warmup_steps, ">= 0")
        _require(0 <= self.lr_floor <= 1, "lr_floor", self.lr_floor, "0 .. 1 (a fraction of lr)")
        _require(self.poly_power > 0, "poly_power", self.poly_power, "> 0")
        _require(self.grad_clip >= 0, "grad_clip", self.grad_clip, ">= 0")
        _require(self.grad_accum >= 1, "grad_accum", self.grad_accum, ">= 1")
        _require(self.batch_size >= 0, "batch_size", self.batch_size, ">= 0 (0: data.batch_size)")
        _require(0 <= self.ema_decay < 1, "ema_decay", self.ema_decay, "0 <= x < 1")
        for key in ("val_every", "sample_every", "checkpoint_every", "nan_max_consecutive"):
            _require(getattr(self, key) >= 1, key, getattr(self, key), ">= 1")
        _require(self.val_batches >= 0, "val_batches", self.val_batches, ">= 0")
        _require(0 < self.nan_lr_factor <= 1, "nan_lr_factor", self.nan_lr_factor, "0 < x <= 1")
        _require(self.collective_timeout_s >= 10, "collective_timeout_s", self.collective_timeout_s, ">= 10 seconds")


@dataclass(frozen=True)
class LDMConfig:
    """Conditional UNet in latent space and its condition encoder (FACTS §2). Paper: channels 128,
    channel_mult [1, 2, 4, 4], 2 res blocks, Swin-B condition encoder; ~225 M parameters."""

    channels: int = 32
    """Width of the first UNet level."""
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)
    """Width multiplier per UNet level; level i works at the latent resolution / 2**i."""
    num_res_blocks: int = 1
    """Residual blocks per UNet level."""
    attention_heads: int = 4
    """Heads of the window cross-attention and of the middle self-attention."""
    window_size: int = 4
    """Side (in tokens) of the windows of the latent-to-condition cross-attention."""
    cond_backbone: str = "resnet10t"
    """timm backbone of the condition encoder (features_only, random init); paper: swin_base_patch4_window7_224."""
    cond_channels: int = 3
    """Channels of the condition image: [buildings, tx, buildings] or [buildings, tx, cars]."""
    dropout: float = 0.0
    """Dropout inside residual blocks."""

    def __post_init__(self) -> None:
        _require(self.channels >= 8 and self.channels % 8 == 0, "channels", self.channels, "a multiple of 8")
        mults_ok = len(self.channel_mult) >= 1 and all(m >= 1 for m in self.channel_mult)
        _require(mults_ok, "channel_mult", list(self.channel_mult), "a non-empty list of integers >= 1")
        _require(self.num_res_blocks >= 1, "num_res_blocks", self.num_res_blocks, ">= 1")
        _require(self.attention_heads >= 1, "attention_heads", self.attention_heads, ">= 1")
        _require(self.window_size >= 1, "window_size", self.window_size, ">= 1")
        _require(bool(self.cond_backbone.strip()), "cond_backbone", self.cond_backbone, "a timm model name")
        _require(self.cond_channels >= 1, "cond_channels", self.cond_channels, ">= 1")
        _require(0 <= self.dropout < 1, "dropout", self.dropout, "0 <= x < 1")


@dataclass(frozen=True)
class DiffusionConfig:
    """The constant-SDE pred_KC process and its few-step sampler (FACTS §2)."""

    vae_uri: str = ""
    """The frozen first stage: `runs:/<id>/vae`, `models:/radiodiff-vae/<version>` or a package folder."""
    t_eps: float = 1e-4
    """Smallest training time (and the sampler's last call)."""
    time_power: float = 6.0
    """Density of the training times: 1 draws them from U(t_eps, 1) (the paper configs); p > 1 from
    t_eps + (1 - t_eps)(1 - u^p), more of them at high noise (`radiodiff.diffusion.process.uniform_to_time`).
    CPU default 6 (68 % of the draws above t = 0.9): test RMSE 0.097 against 0.100 / 0.102 / 0.107 for p = 4 / 3 / 2
    at the same 1200 steps (docs/quality.md)."""
    sampling_steps: int = 1
    """Sampler steps N (N + 1 network calls). CPU default 1: at this budget one call at t = 1 (the model's
    estimate of the posterior mean, then the t_eps step) scores best (docs/quality.md); the paper configs: 5."""
    sampling_precision: Literal["no", "bf16"] = "no"
    """bf16: the sampler's network calls and the VAE decoder under bf16 autocast (fp32 sampler arithmetic and
    output). It pays where the hardware has bf16 units (CUDA; CPUs with AMX or avx512_bf16) and the network is
    wide: 2.2x at the paper width on a 2-core AMX CPU, slower at the CPU default width (docs/speed.md)."""
    samples_averaged: int = 1
    """Samples averaged into each predicted map (1: one sample, as the paper). The mean of K samples approaches
    the posterior mean, the map of least squared error, at K times the sampling cost."""
    scale_factor: float = 0.0
    """Latent scale factor; 0 estimates 1 / std of the training latents (the paper fixes 0.3 for its VAE)."""
    cache_latents: bool = True
    """Encode the training maps once (posterior mean and std) instead of at every step."""
    building_vae_uri: str = ""
    """Multi-condition LDM (icassp layout): the frozen building VAE (`data.target: building`) whose latent of the
    condition's reflectance and transmittance joins the UNet's input (radiodiff/models/latent_condition.py);
    `models:/<name>/latest` resolves to a version when training starts. Empty: no building latent."""
    antenna_vae_uri: str = ""
    """Multi-condition LDM (icassp layout): the frozen antenna VAE (`data.target: antenna`) whose latent of the
    condition's antenna channel joins the UNet's input. Empty: no antenna latent."""

    def __post_init__(self) -> None:
        _require(0 < self.t_eps < 0.5, "t_eps", self.t_eps, "0 < x < 0.5")
        _require(1 <= self.time_power <= 8, "time_power", self.time_power, "1 .. 8 (1: uniform)")
        _require(self.sampling_steps >= 1, "sampling_steps", self.sampling_steps, ">= 1")
        _require(1 <= self.samples_averaged <= 64, "samples_averaged", self.samples_averaged, "1 .. 64")
        _require(self.scale_factor >= 0, "scale_factor", self.scale_factor, ">= 0 (0: estimate)")


@dataclass(frozen=True)
class RadioUNetConfig:
    """The RadioUNet baseline (Levie et al. 2021, `radiodiff/models/radiounet.py`): a supervised UNet from the
    condition image to the radio map. Paper scale: two stages (RadioUNet_C), channels 64, channel_mult
    [1, 2, 4, 8, 8] (~41 M parameters); the CPU default is one stage of ~1.9 M (0.38 GFLOPs per 64x64 map)."""

    stages: int = 1
    """1: RadioUNet (one UNet); 2: RadioUNet_C (a second UNet refines the first one's map, as in the paper)."""
    channels: int = 16
    """Width of the first level (a multiple of 8)."""
    channel_mult: tuple[int, ...] = (1, 2, 4, 8, 16)
    """Width multiplier per level; the input is max-pooled 2**(levels - 1) times (maps are padded to that multiple)."""
    convs_per_level: int = 2
    """3x3 convolutions (each with GroupNorm and ReLU) per level, in the encoder and in the decoder."""

    def __post_init__(self) -> None:
        _require(self.stages in (1, 2), "stages", self.stages, "1 (RadioUNet) or 2 (RadioUNet_C)")
        _require(self.channels >= 8 and self.channels % 8 == 0, "channels", self.channels, "a multiple of 8")
        mults_ok = len(self.channel_mult) >= 1 and all(m >= 1 for m in self.channel_mult)
        _require(mults_ok, "channel_mult", list(self.channel_mult), "a non-empty list of integers >= 1")
        _require(self.convs_per_level >= 1, "convs_per_level", self.convs_per_level, ">= 1")
