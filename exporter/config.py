"""The one configuration object: embedded defaults, overlaid by a YAML file, then by flags.

Every limit the exporter enforces is a named field here. The schema is a frozen msgspec
Struct, so a bad file fails at start with the offending key named, unknown keys included.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated

import msgspec

from exporter.config_types import (
    BucketList,
    ConfigError,
    DurationSeconds,
    Pattern,
    Ratio,
    Section,
    decode_hook,
)
from exporter.traces.settings import OtlpConfig

DEFAULT_PORT = 9471
DEFAULT_LISTEN_ADDRESS = f"127.0.0.1:{DEFAULT_PORT}"


class WebConfig(Section, frozen=True):
    listen_address: str = DEFAULT_LISTEN_ADDRESS
    config_file: str | None = None
    """TLS and basic auth, in the exporter-toolkit web config format."""
    max_requests: Annotated[int, msgspec.Meta(ge=0, le=1024)] = 40
    """Parallel /metrics requests served (node_exporter's --web.max-requests); 0: no limit."""
    idle_timeout: DurationSeconds = DurationSeconds(15.0)
    """A keep-alive connection idle this long is closed (aiohttp's default holds it 75 s)."""
    max_header_count: Annotated[int, msgspec.Meta(ge=8, le=128)] = 32
    """Request headers accepted per request, each at most 8 KiB; beyond, 400."""
    shutdown_timeout: DurationSeconds = DurationSeconds(3.0)
    """On SIGTERM, how long requests in progress may take to finish before they are cut."""
    max_connections: Annotated[int, msgspec.Meta(ge=1, le=65_536)] = 1024
    """Open connections; at the cap the oldest that has not sent a request is closed."""


class UserMessageConfig(Section, frozen=True):
    enabled: bool = True
    max_length: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 200


class BucketsConfig(Section, frozen=True):
    workflow_duration_seconds: BucketList = msgspec.field(
        default=(1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
    )
    step_duration_seconds: BucketList = msgspec.field(
        default=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
    )
    approval_wait_seconds: BucketList = msgspec.field(
        default=(5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800)
    )


WARNING_SHARE_OF_CRITICAL = 0.8
"""The original AutoBot warned at 80 % of each critical threshold."""


class Threshold(Section, frozen=True):
    """Levels for one resource as ratios 0..1; a value strictly above a level reaches it."""

    critical: Ratio
    warning: Ratio = 0.0
    """Left out (0): 80 % of critical, as the original AutoBot computed it."""

    def __post_init__(self) -> None:
        if not self.warning:
            level = round(self.critical * WARNING_SHARE_OF_CRITICAL, 6)
            msgspec.structs.force_setattr(self, "warning", level)
        if self.warning >= self.critical:
            raise ConfigError("warning must be below critical")


class ThresholdsConfig(Section, frozen=True):
    cpu: Threshold = Threshold(critical=0.80)
    memory: Threshold = Threshold(critical=0.85)
    disk: Threshold = Threshold(critical=0.90)


class FilesystemConfig(Section, frozen=True):
    """Which mounts the disk families report (node_exporter's default exclusions)."""

    mount_points_exclude: Pattern = Pattern(
        "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
    )
    fs_types_exclude: Pattern = Pattern(
        "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs"
        "|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs"
        "|squashfs|erofs|sysfs|tracefs|tmpfs|devfs|shm)$"
    )
    mount_timeout: DurationSeconds = DurationSeconds(5.0)
    """How long one statvfs may take before its mount point is reported unreadable."""


class NetworkConfig(Section, frozen=True):
    devices_exclude: Pattern = Pattern("^(lo|veth.*|docker[0-9]+|br-.*)$")


class ProcessGroup(Section, frozen=True):
    """Processes whose name matches ``comm`` and whose command line matches ``cmdline``
    (regular expressions, searched; an absent one matches everything)."""

    name: Annotated[str, msgspec.Meta(pattern=r"^[a-zA-Z_][a-zA-Z0-9_-]*$", max_length=64)]
    comm: Pattern | None = None
    cmdline: Pattern | None = None

    def __post_init__(self) -> None:
        if self.comm is None and self.cmdline is None:
            raise ConfigError(f"process group {self.name!r} needs comm or cmdline")


class RulesConfig(Section, frozen=True):
    """What the rendered alert rules select and where they fire (``autobot-exporter rules``)."""

    selector: str = 'job="autobot-exporter"'
    """Label matchers added to every selector in the rules, as in the node-mixin."""
    workflow_failure_ratio: Ratio = 0.2
    """Share of finished workflows failing (failed, timeout, abandoned) that alerts."""
    step_error_ratio: Ratio = 0.25
    """Share of an agent's steps failing that alerts."""
    approval_wait_p95: DurationSeconds = DurationSeconds(1800.0)
    service_error_ratio: Ratio = 0.05
    """Share of a traced service's requests (server spans) ending in error that alerts."""
    service_latency_p95: DurationSeconds = DurationSeconds(5.0)
    """95th percentile of a traced service's request duration that alerts."""
    stuck_after: DurationSeconds = DurationSeconds(3600.0)
    """Workflows active while none finished for this long are stuck."""
    alert_for: dict[str, DurationSeconds] = msgspec.field(default_factory=dict)
    """Per-alert ``for:`` overrides, by alert name."""
    autobot_compatibility: bool = True
    """Render the recording rules that give AutoBot's own metric names (its dashboards and
    alerts then work on the sidecar's data; docs/autobot-stack.md)."""


class Config(Section, frozen=True):
    """Everything the exporter reads at start; see README "Configuration" for each key."""

    web: WebConfig = msgspec.field(default_factory=WebConfig)
    ingest_token_file: str | None = None
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=16 << 20)] = 1 << 20
    max_label_values: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 64
    max_history: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 10_000
    max_active_workflows: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 100_000
    max_steps_per_workflow: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1_000
    max_kept_details: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = 200_000
    max_concurrent_ingest: Annotated[int, msgspec.Meta(ge=0, le=1024)] = 64
    ingest_read_timeout: DurationSeconds = DurationSeconds(30.0)
    max_pending_pairs: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 100_000
    max_listed_processes: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 50
    """Processes of the groups listed one by one in /api/metrics/export/system (the
    largest by resident memory); the rest are counted in autobot_exporter_unlisted_processes."""
    dedup_window: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 100_000
    workflow_ttl: DurationSeconds = DurationSeconds(3600.0)
    user_message: UserMessageConfig = msgspec.field(default_factory=UserMessageConfig)
    buckets: BucketsConfig = msgspec.field(default_factory=BucketsConfig)
    collection_interval: DurationSeconds = DurationSeconds(5.0)
    resource_history: DurationSeconds = DurationSeconds(3600.0)
    thresholds: ThresholdsConfig = msgspec.field(default_factory=ThresholdsConfig)
    filesystem: FilesystemConfig = msgspec.field(default_factory=FilesystemConfig)
    network: NetworkConfig = msgspec.field(default_factory=NetworkConfig)
    process_groups: Annotated[tuple[ProcessGroup, ...], msgspec.Meta(max_length=64)] = (
        ProcessGroup(name="autobot", cmdline=Pattern("autobot(?!-exporter)")),
    )
    cgroup_root: str = "/sys/fs/cgroup"
    history_prometheus_url: str | None = None
    """A Prometheus that scrapes this exporter, asked for /api/metrics/system/history
    windows longer than resource_history; off (None): the ring buffer answers."""
    rules: RulesConfig = msgspec.field(default_factory=RulesConfig)
    otlp: OtlpConfig = msgspec.field(default_factory=OtlpConfig)

    @property
    def resource_history_samples(self) -> int:
        """Ring buffer length: resource_history covered at collection_interval."""
        return max(1, math.ceil(self.resource_history / self.collection_interval))

    def __post_init__(self) -> None:
        _check_durations(self, DURATION_MAXIMA)
        _check_durations(self.web, WEB_DURATION_MAXIMA, prefix="web.")
        if self.collection_interval < MIN_COLLECTION_INTERVAL:
            raise ConfigError(f"collection_interval: at least {MIN_COLLECTION_INTERVAL:g}s")
        if self.resource_history_samples > MAX_RESOURCE_HISTORY_SAMPLES:
            raise ConfigError(
                f"resource_history: {self.resource_history:g}s at collection_interval "
                f"{self.collection_interval:g}s is {self.resource_history_samples} samples, "
                f"more than {MAX_RESOURCE_HISTORY_SAMPLES}"
            )
        names = [group.name for group in self.process_groups]
        if len(set(names)) != len(names):
            raise ConfigError("process_groups: group names must be unique")
        for name in BucketsConfig.__struct_fields__:
            bounds = getattr(self.buckets, name)
            if any(b >= a for a, b in zip(bounds[1:], bounds, strict=False)) or not all(
                math.isfinite(b) for b in bounds
            ):
                raise ConfigError(f"buckets.{name}: bounds must be finite and strictly increasing")
        _split_listen_address(self.web.listen_address)

    def with_web(self, **flags: str | int | None) -> Config:
        """The same config with the ``--web.*`` flags that were given (None: not given)."""
        given = {key: value for key, value in flags.items() if value is not None}
        if "listen_address" in given:
            _split_listen_address(str(given["listen_address"]))
        return msgspec.structs.replace(self, web=msgspec.structs.replace(self.web, **given))

    @property
    def host(self) -> str:
        return _split_listen_address(self.web.listen_address)[0]

    @property
    def port(self) -> int:
        return _split_listen_address(self.web.listen_address)[1]


HOUR = 3600.0
DAY = 24 * HOUR
DURATION_MAXIMA = {
    "ingest_read_timeout": 600.0,
    "workflow_ttl": 7 * DAY,
    "collection_interval": HOUR,
    "resource_history": 7 * DAY,
}
"""The longest each duration may be (documented in docs/configuration.md)."""
WEB_DURATION_MAXIMA = {"idle_timeout": HOUR, "shutdown_timeout": 600.0}
MIN_COLLECTION_INTERVAL = 0.1
MAX_RESOURCE_HISTORY_SAMPLES = 100_000
"""The sampler's ring buffer: resource_history / collection_interval samples at most."""


def _check_durations(section: object, maxima: dict[str, float], prefix: str = "") -> None:
    for key, maximum in maxima.items():
        value = getattr(section, key)
        if value > maximum:
            raise ConfigError(f"{prefix}{key}: {value:g}s is longer than the maximum, {maximum:g}s")


def _split_listen_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"web.listen_address: expected host:port, got {address!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def readable_error(error: msgspec.ValidationError) -> str:
    """Turn msgspec's ``msg - at `$.a.b``` into ``a.b: msg``, naming unknown keys the same way."""
    message, _, where = str(error).partition(" - at `$")
    where = where.rstrip("`").removeprefix(".")
    unknown = re.fullmatch(r"Object contains unknown field `(.*)`", message)
    if unknown:
        return f"{where + '.' if where else ''}{unknown.group(1)}: unknown key"
    return f"{where}: {message}" if where else message


def parse_config(text: str | bytes, source: str = "config") -> Config:
    """Build a Config from YAML text; raise ConfigError naming the bad key."""
    if not str(text).strip():
        return Config()
    try:
        return msgspec.yaml.decode(text, type=Config, dec_hook=decode_hook)
    except msgspec.ValidationError as error:
        raise ConfigError(f"{source}: {readable_error(error)}") from None
    except msgspec.DecodeError as error:
        raise ConfigError(f"{source}: not valid YAML: {error}") from None


def load_config(path: str | Path | None) -> Config:
    """The embedded defaults when path is None, else the YAML file at path."""
    if path is None:
        return Config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    return parse_config(text, source=str(path))


def read_token(config: Config) -> str | None:
    """The ingest bearer token, read once at start; an empty file is a config error."""
    if config.ingest_token_file is None:
        return None
    try:
        token = Path(config.ingest_token_file).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(
            f"ingest_token_file: cannot read {config.ingest_token_file}: {error.strerror}"
        ) from None
    if not token:
        raise ConfigError(f"ingest_token_file: {config.ingest_token_file} is empty")
    return token
