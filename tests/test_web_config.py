"""--web.config.file: TLS and basic auth in the exporter-toolkit format, with a real
Prometheus scraping over HTTPS with credentials."""

from __future__ import annotations

import asyncio
import base64
import threading
from concurrent.futures import ThreadPoolExecutor

import bcrypt
import pytest
import requests
import trustme
import yaml

from exporter.config import ConfigError
from exporter.web.web_config import BasicAuth, load_web_config
from tests.support.processes import Exporter, Prometheus, run_exporter, wait_until

PASSWORD = "s3cret-scrape"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1", "localhost")
    server.private_key_and_cert_chain_pem.write_to_path(str(directory / "server.pem"))
    authority.cert_pem.write_to_path(str(directory / "ca.pem"))
    return directory


def web_config_file(directory, users: dict[str, str] | None = None) -> str:
    path = directory / "web.yml"
    config = {
        "tls_server_config": {
            "cert_file": str(directory / "server.pem"),
            "key_file": str(directory / "server.pem"),
        }
    }
    if users:
        config["basic_auth_users"] = users
    path.write_text(yaml.safe_dump(config))
    return str(path)


def hashed(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("basic_auth_users: {bob: plain}", "basic_auth_users.bob: not a bcrypt hash"),
        (
            "tls_server_config: {cert_file: /nope.pem, key_file: /nope.pem}",
            "tls_server_config.cert_file/key_file",
        ),
        ("tls_sever_config: {}", "tls_sever_config: unknown key"),
    ],
)
def test_bad_web_config_names_the_key(tmp_path, text, named):
    path = tmp_path / "web.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=named.replace("/", ".")):
        load_web_config(path)


def test_basic_auth_checks_hashes_and_remembers_success():
    auth = BasicAuth({"prometheus": hashed(PASSWORD)})

    def accepts(header: str) -> bool:
        return asyncio.run(auth.accepts(header))

    assert accepts(basic("prometheus", PASSWORD))
    assert accepts(basic("prometheus", PASSWORD))
    assert not accepts(basic("prometheus", "wrong"))
    assert not accepts(basic("nobody", PASSWORD))
    assert not accepts("Basic not-base64!")
    assert not accepts("Bearer abc")


@pytest.fixture
def secured(certificates, tmp_path, process_reaper):
    token = tmp_path / "token"
    token.write_text("ingest-token\n")
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins over verify
    session.verify = str(certificates / "ca.pem")
    session.auth = ("prometheus", PASSWORD)
    exporter = Exporter(
        tmp_path,
        f"ingest_token_file: {token}\n",
        extra_args=(
            "--web.config.file",
            web_config_file(certificates, {"prometheus": hashed(PASSWORD)}),
        ),
        session=session,
        scheme="https",
    )
    process_reaper.append(exporter)
    return exporter


def test_https_and_basic_auth_guard_every_route(secured, certificates):
    ca = str(certificates / "ca.pem")
    assert secured.get("/metrics").status_code == 200
    anonymous = requests.get(secured.url + "/metrics", verify=ca, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
    wrong = requests.get(secured.url + "/-/ready", verify=ca, auth=("prometheus", "x"), timeout=10)
    assert wrong.status_code == 401
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{secured.port}/metrics", timeout=10)
    assert "listening on https://" in secured.log_text()


def test_the_ingest_token_alone_is_enough_to_push_events(secured, certificates):
    response = requests.post(
        secured.url + "/api/v1/events",
        json={"type": "workflow_started", "workflow_id": "t"},
        headers={"Authorization": "Bearer ingest-token"},
        verify=str(certificates / "ca.pem"),
        timeout=10,
    )
    assert response.status_code == 202


def test_prometheus_scrapes_over_https_with_basic_auth(
    secured, certificates, tmp_path, process_reaper
):
    prometheus = Prometheus(
        tmp_path,
        [secured.address],
        scrape_options={
            "scheme": "https",
            "tls_config": {"ca_file": str(certificates / "ca.pem")},
            "basic_auth": {"username": "prometheus", "password": PASSWORD},
        },
    )
    process_reaper.append(prometheus)
    prometheus.wait_for_scalar("up", 1)
    prometheus.wait_for_scalar("autobot_exporter_build_info", 1)


def test_check_config_rejects_a_broken_web_config_at_start(tmp_path):
    path = tmp_path / "web.yml"
    path.write_text("basic_auth_users: {bob: plain}\n")
    result = run_exporter("--web.config.file", str(path))
    assert result.returncode == 1
    assert "basic_auth_users.bob" in result.stderr


def test_an_unknown_user_costs_a_bcrypt_check_like_a_wrong_password(monkeypatch):
    """No user enumeration by timing: both run exactly one bcrypt check."""
    auth = BasicAuth({"prometheus": hashed(PASSWORD)})
    checks = []
    real_checkpw = bcrypt.checkpw

    def counted(password: bytes, hashed_password: bytes) -> bool:
        checks.append(hashed_password)
        return real_checkpw(password, hashed_password)

    monkeypatch.setattr(bcrypt, "checkpw", counted)
    assert not asyncio.run(auth.accepts(basic("nobody", PASSWORD)))
    assert not asyncio.run(auth.accepts(basic("prometheus", "wrong")))
    assert len(checks) == 2
    assert checks[0][:7] == checks[1][:7], "the dummy hash has the real hash's cost"


def test_a_flood_of_wrong_passwords_does_not_hold_up_authenticated_scrapes(
    monkeypatch, tmp_path, start_app
):
    """bcrypt checks stuck (a stand-in that blocks) on every thread they can get must
    leave the /metrics render threads free and cap how many wait."""
    web_yml = tmp_path / "web.yml"
    web_yml.write_text(yaml.safe_dump({"basic_auth_users": {"prometheus": hashed(PASSWORD)}}))
    exporter = start_app(f"web: {{config_file: {web_yml}}}\n", auth=("prometheus", PASSWORD))
    assert exporter.get("/metrics").ok  # checked once for real, then remembered
    release = threading.Event()
    real_checkpw = bcrypt.checkpw
    monkeypatch.setattr(
        bcrypt,
        "checkpw",
        lambda password, hashed_: release.wait(30) and real_checkpw(password, hashed_),
    )
    with ThreadPoolExecutor(max_workers=80) as attackers:
        attempts = [
            attackers.submit(
                requests.get,
                exporter.url + "/metrics",
                auth=("prometheus", f"guess-{n}"),
                timeout=30,
            )
            for n in range(80)
        ]
        try:
            wait_until(lambda: sum(a.done() for a in attempts) >= 16, 10, "refusals past the cap")
            assert all(a.result().status_code == 401 for a in attempts if a.done())
            assert exporter.get("/metrics").ok  # renders while 64 checks wait
        finally:
            release.set()
    assert [a.result().status_code for a in attempts] == [401] * 80
