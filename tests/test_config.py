"""The config schema without a process: defaults, every bad key named, flag overrides."""

from __future__ import annotations

import pytest

from exporter.config import Config, ConfigError, load_config, parse_config, read_token


def test_an_empty_file_is_the_embedded_defaults():
    assert parse_config("") == Config()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("max_histroy: 5\n", "max_histroy: unknown key"),
        ("web: {listen_adress: x}\n", "web.listen_adress: unknown key"),
        ("max_body_bytes: 10\n", "max_body_bytes: Expected `int` >= 1024"),
        ("workflow_ttl: soon\n", "workflow_ttl: expected a duration"),
        ("buckets: {approval_wait_seconds: [10, 5]}\n", "buckets.approval_wait_seconds"),
        ("web: {listen_address: nowhere}\n", "web.listen_address"),
        ("max_label_values: many\n", "max_label_values: Expected `int`"),
        ("web: {max_requests: -1}\n", "web.max_requests: Expected `int` >= 0"),
        ("filesystem: {mount_timeout: 0s}\n", "filesystem.mount_timeout: a duration must be"),
        ("max_kept_details: 0\n", "max_kept_details: Expected `int` >= 1"),
        ("max_concurrent_ingest: -1\n", "max_concurrent_ingest: Expected `int` >= 0"),
        # every window and capacity has a documented maximum (docs/configuration.md)
        (f"dedup_window: {2**40}\n", "dedup_window: Expected `int` <= 1000000"),
        (f"max_pending_pairs: {2**31}\n", "max_pending_pairs: Expected `int` <= 1000000"),
        ("max_history: 100001\n", "max_history: Expected `int` <= 100000"),
        ("max_active_workflows: 1000001\n", "max_active_workflows: Expected `int` <= 1000000"),
        ("max_steps_per_workflow: 100001\n", "max_steps_per_workflow: Expected `int` <= 100000"),
        ("max_kept_details: 10000001\n", "max_kept_details: Expected `int` <= 10000000"),
        ("max_label_values: 10001\n", "max_label_values: Expected `int` <= 10000"),
        ("max_body_bytes: 16777217\n", "max_body_bytes: Expected `int` <= 16777216"),
        ("max_concurrent_ingest: 1025\n", "max_concurrent_ingest: Expected `int` <= 1024"),
        ("web: {max_connections: 65537}\n", "web.max_connections: Expected `int` <= 65536"),
        ("workflow_ttl: 8d\n", "workflow_ttl: 691200s is longer than the maximum, 604800s"),
        ("web: {idle_timeout: 2h}\n", "web.idle_timeout: 7200s is longer than the maximum"),
        ("collection_interval: 50ms\n", "collection_interval: at least 0.1s"),
        ("{collection_interval: 1s, resource_history: 2d}\n", "resource_history: 172800s"),
    ],
)
def test_a_bad_key_is_named(text, named):
    with pytest.raises(ConfigError) as raised:
        parse_config(text, "bad.yml")
    assert named in str(raised.value)


def test_web_flags_override_only_what_they_give():
    config = parse_config("web: {max_requests: 7, config_file: web.yml}")
    flagged = config.with_web(listen_address="0.0.0.0:9999", config_file=None, max_requests=0)
    assert (flagged.web.listen_address, flagged.web.config_file, flagged.web.max_requests) == (
        "0.0.0.0:9999",
        "web.yml",
        0,
    )


def test_durations_are_read_in_prometheus_units():
    config = parse_config("workflow_ttl: 1h30m\ncollection_interval: 500ms\n")
    assert (config.workflow_ttl, config.collection_interval) == (5400.0, 0.5)


def test_a_left_out_warning_is_80_percent_of_critical_as_in_the_original():
    config = parse_config("thresholds: {disk: {critical: 0.5}}")
    assert (config.thresholds.disk.critical, config.thresholds.disk.warning) == (0.5, 0.4)
    assert (Config().thresholds.cpu.warning, Config().thresholds.memory.warning) == (0.64, 0.68)


def test_a_warning_at_or_above_critical_is_refused():
    with pytest.raises(ConfigError, match="warning must be below critical"):
        parse_config("thresholds: {cpu: {critical: 0.5, warning: 0.5}}")


def test_no_file_is_the_defaults_and_an_unreadable_one_is_named(tmp_path):
    assert load_config(None) == Config()
    with pytest.raises(ConfigError, match=r"absent\.yml: cannot read"):
        load_config(tmp_path / "absent.yml")


def test_the_ingest_token_file_is_read_once_and_must_not_be_empty(tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    assert read_token(parse_config(f"ingest_token_file: {token}")) == "s3cret"
    token.write_text("\n")
    with pytest.raises(ConfigError, match=r"ingest_token_file: .* is empty"):
        read_token(parse_config(f"ingest_token_file: {token}"))
