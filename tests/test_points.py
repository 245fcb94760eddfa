"""The original collector's raw metric points: counted per kind as it counted them, kept up
to the capacity, and counted inside a window."""

from __future__ import annotations

from exporter.workflows.points import MetricPoints


def test_points_are_kept_up_to_the_capacity_newest_last():
    points = MetricPoints(5)
    points.add(1.0)
    points.add_many(2.0, 2)
    points.add_many(3.0, 4)
    assert len(points) == 5
    assert points.since(2.5) == 4
    assert points.since(2.0) == 5
    assert points.since(0.0) == 5


def test_a_resource_record_counts_its_top_level_fields_only():
    points = MetricPoints(100)
    points.add_resource_fields(1.0, ["cpu_percent", "memory_mb", "network_io.bytes_sent"])
    assert len(points) == 2


def test_a_window_counts_from_the_newest_back():
    points = MetricPoints(100)
    for second in range(10):
        points.add(float(second))
    assert points.since(7.0) == 3
    assert points.since(10.0) == 0
