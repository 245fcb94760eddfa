"""System sampling: the background sampler and its pieces (host, cgroup, filesystems,
process groups), the immutable snapshot they produce, health evaluation, and the collector
that turns the latest snapshot into families at scrape time."""
