"""Command line: run the exporter (default), or ``check-config FILE``."""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from exporter import __version__
from exporter.app import create_app
from exporter.config import ConfigError, load_config

log = logging.getLogger("exporter")

LOG_FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)r"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autobot-exporter",
        description="Prometheus exporter for AutoBot workflows. With no command, serve.",
    )
    parser.add_argument("--version", action="version", version=f"autobot-exporter {__version__}")
    parser.add_argument(
        "--config.file",
        dest="config_file",
        metavar="FILE",
        help="YAML configuration file (default: the embedded defaults)",
    )
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        metavar="HOST:PORT",
        help="address to listen on (overrides web.listen_address; default 127.0.0.1:9471)",
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
    return parser


def _check_config(path: str) -> int:
    try:
        load_config(path)
    except ConfigError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print(f"SUCCESS: {path} is a valid autobot-exporter config")
    return 0


def _serve(config_file: str | None, listen_address: str | None) -> int:
    try:
        config = load_config(config_file)
        if listen_address is not None:
            config = config.with_listen_address(listen_address)
        app = create_app(config)
    except ConfigError as error:
        log.error("invalid configuration: %s", error)
        return 1
    log.info("autobot-exporter %s listening on %s", __version__, config.web.listen_address)
    web.run_app(app, host=config.host, port=config.port, print=None, access_log=None)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    if args.command == "check-config":
        return _check_config(args.file)
    return _serve(args.config_file, args.listen_address)
