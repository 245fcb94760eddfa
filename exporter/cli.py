"""Command line: run the exporter (default), ``check-config FILE``, ``rules``,
``dashboards``, ``kubernetes`` or ``demo``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import resource
import sys
from pathlib import Path

from aiohttp import web

from exporter import __version__
from exporter.app import create_app, read_config_files
from exporter.config import DEFAULT_LISTEN_ADDRESS, ConfigError, load_config
from exporter.log_limit import limit_repeats
from exporter.web.keys import CONNECTIONS, WEB_CONFIG
from exporter.web.server import serve
from exporter.web.web_config import server_ssl_context

log = logging.getLogger("exporter")

LOG_FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)r"


def _add_config_file(parser: argparse.ArgumentParser, dest: str = "command_config_file") -> None:
    """``--config.file``, also accepted after a subcommand (its own dest, so the value
    given before the subcommand is not overwritten by the subcommand's default)."""
    parser.add_argument(
        "--config.file",
        dest=dest,
        metavar="FILE",
        help="YAML configuration file (default: the embedded defaults)",
    )


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autobot-exporter",
        description="Prometheus exporter for AutoBot workflows. With no command, serve.",
    )
    parser.add_argument("--version", action="version", version=f"autobot-exporter {__version__}")
    _add_config_file(parser, dest="config_file")
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        metavar="HOST:PORT",
        help="address to listen on (overrides web.listen_address; default 127.0.0.1:9471)",
    )
    parser.add_argument(
        "--web.config.file",
        dest="web_config_file",
        metavar="FILE",
        help="TLS and basic auth, in the exporter-toolkit format (overrides web.config_file)",
    )
    parser.add_argument(
        "--web.max-requests",
        dest="max_requests",
        type=_non_negative,
        metavar="N",
        help="parallel /metrics requests served, 503 beyond; 0 for no limit "
        "(overrides web.max_requests; default 40)",
    )
    parser.add_argument(
        "--log.level",
        dest="log_level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log level (default: info)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("file", help="the YAML file to check")
    rules = commands.add_parser(
        "rules", help="print the Prometheus alert and recording rules rendered from the config"
    )
    _add_config_file(rules)
    for name, help_text, output in (
        (
            "dashboards",
            "write the Grafana dashboards rendered from the config",
            "grafana/dashboards",
        ),
        (
            "kubernetes",
            "write the PrometheusRule and the dashboard ConfigMaps rendered from the config",
            "deploy/kubernetes",
        ),
    ):
        writer = commands.add_parser(name, help=help_text)
        _add_config_file(writer)
        writer.add_argument(
            "--output", default=output, help="folder to write to (default: %(default)s)"
        )
    demo = commands.add_parser("demo", help="push a simulated AutoBot workload to an exporter")
    demo.add_argument(
        "--url",
        default=f"http://{DEFAULT_LISTEN_ADDRESS}",
        help="the exporter (default: %(default)s)",
    )
    demo.add_argument(
        "--rate",
        type=float,
        default=2.0,
        help="workflows started per second (default: %(default)s)",
    )
    demo.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help="seconds to keep starting workflows, 0 for ever (default: %(default)s)",
    )
    demo.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="divide every simulated wait by this (default: %(default)s)",
    )
    demo.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable run")
    demo.add_argument("--token-file", default=None, help="file with the ingest bearer token")
    return parser


def _check_config(path: str) -> int:
    """What start would refuse: the config, the files it names (token, web config, TLS),
    and the rules rendered from it."""
    from exporter.artifacts.rules import render_rules  # noqa: PLC0415 (see _print_rules)

    try:
        config = load_config(path)
        read_config_files(config)
        render_rules(config)
    except ConfigError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print(f"SUCCESS: {path} is a valid autobot-exporter config")
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config_file).with_web(
            listen_address=args.listen_address,
            config_file=args.web_config_file,
            max_requests=args.max_requests,
        )
        app = create_app(config)
        tls = app[WEB_CONFIG].tls_server_config
        ssl_context = server_ssl_context(tls) if tls is not None else None
    except ConfigError as error:
        log.error("invalid configuration: %s", error)
        return 1
    scheme = "https" if ssl_context else "http"
    app[CONNECTIONS].fit_open_files_limit(_raise_open_files_limit())
    # What start-up created (modules, functions, the registry) lives as long as the process:
    # moved out of the collector's generations, full collections stop walking it again
    # and again (measured: 10-15 % of the ingest CPU once the history is full).
    gc.freeze()
    log.info(
        "autobot-exporter %s listening on %s://%s",
        __version__,
        scheme,
        config.web.listen_address,
    )
    with contextlib.suppress(web.GracefulExit, KeyboardInterrupt):
        asyncio.run(serve(app, config, ssl_context))
    return 0


def _raise_open_files_limit() -> int:
    """Each connection holds a file descriptor; a soft limit of 1024 (systemd's default
    for services) is what a thousand slow clients exhaust, after which neither Prometheus
    nor AutoBot gets through. Raise it to the hard limit, which needs no privilege.
    Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard in (soft, resource.RLIM_INFINITY):
        return soft if soft != resource.RLIM_INFINITY else sys.maxsize
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as error:
        log.warning("open files limit stays %d (hard limit %d): %s", soft, hard, error)
        return soft
    log.info("open files limit raised from %d to %d", soft, hard)
    return hard


def _print_rules(config_file: str | None) -> int:
    # imported here, as the other artifacts are: the serving process does not carry them
    from exporter.artifacts.rules import render_rules  # noqa: PLC0415

    try:
        sys.stdout.write(render_rules(load_config(config_file)))
    except ConfigError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    return 0


def _write_artifacts(command: str, config_file: str | None, output: str) -> int:
    """``dashboards`` or ``kubernetes``: both render the dashboards."""
    # imported here: the Grafana SDK is only needed by these two commands, not by the server
    from exporter.artifacts.dashboards import render_dashboards  # noqa: PLC0415
    from exporter.artifacts.kubernetes import render_kubernetes  # noqa: PLC0415

    try:
        config = load_config(config_file)
        rendered = render_dashboards(config)
        if command == "kubernetes":
            rendered = render_kubernetes(config, rendered)
    except ConfigError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        (folder / name).write_text(text)
        print(f"wrote {folder / name}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    if args.rate <= 0 or args.speed <= 0:
        print("FAILED: --rate and --speed must be positive", file=sys.stderr)
        return 2
    # imported here: the demo loads aiohttp's client, which the serving process does not need
    from exporter.demo import DemoOptions, run_demo  # noqa: PLC0415

    token = Path(args.token_file).read_text().strip() if args.token_file else None
    try:
        options = DemoOptions(args.url, args.rate, args.duration, args.speed, args.seed, token)
        asyncio.run(run_demo(options))
    except KeyboardInterrupt:
        print(file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    limit_repeats()
    if args.command == "check-config":
        return _check_config(args.file)
    if args.command == "demo":
        return _demo(args)
    if args.command == "rules":
        return _print_rules(args.command_config_file or args.config_file)
    if args.command in ("dashboards", "kubernetes"):
        config_file = args.command_config_file or args.config_file
        return _write_artifacts(args.command, config_file, args.output)
    return _serve(args)
