"""Workflow tracking: the event schema, the tracker that applies events to state, the
metric families it feeds, and the bounded memories it keeps (dedup window, pairs, budget,
label caps). No HTTP here."""
