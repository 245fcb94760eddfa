"""AutoBot's original ``/api/metrics`` routes: route modules (workflow, system, dashboard)
that share ``context`` instead of importing one another, and the JSON shapes they answer in
the original's units."""
