"""``--web.config.file``: TLS and basic auth in the Prometheus exporter-toolkit format, so an
operator can reuse the file they already give node_exporter.

    tls_server_config:
      cert_file: server.crt
      key_file: server.key
      client_auth_type: RequireAndVerifyClientCert   # optional
      client_ca_file: ca.crt
    basic_auth_users:
      prometheus: $2y$10$...                          # bcrypt hashes (htpasswd -nBC 10 "")
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import ssl
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import bcrypt
import msgspec

from exporter.config import ConfigError, readable_error

ClientAuth = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]
VERIFY_MODES = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
TLS_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
VERIFIED_CACHE_SIZE = 1024
MAX_WAITING_CHECKS = 64


class TLSServerConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cert_file: str
    key_file: str
    client_auth_type: ClientAuth = "NoClientCert"
    client_ca_file: str | None = None
    min_version: Literal["TLS12", "TLS13"] = "TLS12"


class WebConfigFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    tls_server_config: TLSServerConfig | None = None
    basic_auth_users: dict[str, str] = msgspec.field(default_factory=dict)


def load_web_config(path: str | Path) -> WebConfigFile:
    """Parse and check the file; a bad key, hash or certificate fails here, at start."""
    try:
        config = msgspec.yaml.decode(Path(path).read_bytes(), type=WebConfigFile)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except msgspec.ValidationError as error:
        raise ConfigError(f"{path}: {readable_error(error)}") from None
    except msgspec.DecodeError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    for user, hashed in config.basic_auth_users.items():
        if not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            raise ConfigError(f"{path}: basic_auth_users.{user}: not a bcrypt hash")
    if config.tls_server_config is not None:
        server_ssl_context(config.tls_server_config, source=str(path))
    return config


def server_ssl_context(tls: TLSServerConfig, source: str = "web config") -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = TLS_VERSIONS[tls.min_version]
    try:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"{source}: tls_server_config.cert_file/key_file: {error}") from None
    context.verify_mode = VERIFY_MODES[tls.client_auth_type]
    if tls.client_ca_file is not None:
        try:
            context.load_verify_locations(tls.client_ca_file)
        except (OSError, ssl.SSLError) as error:
            raise ConfigError(f"{source}: tls_server_config.client_ca_file: {error}") from None
    elif tls.client_auth_type in ("VerifyClientCertIfGiven", "RequireAndVerifyClientCert"):
        raise ConfigError(f"{source}: tls_server_config.client_ca_file: needed to verify clients")
    return context


class BasicAuth:
    """Checks ``Authorization: Basic`` against bcrypt hashes, as exporter-toolkit does.

    bcrypt is slow on purpose (tens of milliseconds), so:
    - a checked (user, password) pair is remembered by its SHA-256, right or wrong;
    - checks run on one thread of their own, never on the event loop nor on the threads
      that render /metrics, so a flood of wrong passwords delays only other unknown
      passwords; at most ``MAX_WAITING_CHECKS`` wait, further ones are refused at once;
    - an unknown user is checked against a dummy hash of the same cost, so the answer
      takes as long as a known user's with a wrong password (no user enumeration).
    """

    def __init__(self, users: dict[str, str]) -> None:
        self._users = {user: hashed.encode() for user, hashed in users.items()}
        self._verified: dict[bytes, bool] = {}
        rounds = int(next(iter(self._users.values())).split(b"$")[2]) if self._users else 10
        self._dummy = bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds))
        self._checks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bcrypt")
        self._waiting = 0

    async def accepts(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        key = hashlib.sha256(f"{user}\0{password}".encode()).digest()
        known = self._verified.get(key)
        if known is not None:
            return known
        if self._waiting >= MAX_WAITING_CHECKS:
            return False
        hashed = self._users.get(user)
        self._waiting += 1
        try:
            matches = await asyncio.get_running_loop().run_in_executor(
                self._checks, bcrypt.checkpw, password.encode(), hashed or self._dummy
            )
        finally:
            self._waiting -= 1
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[key] = matches and hashed is not None
        return self._verified[key]
