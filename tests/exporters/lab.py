"""Real exporters on loopback, from Debian's packages, for the catalog tests.

`running_exporters()` starts PostgreSQL + postgres_exporter, redis-server
(with a `maxmemory`) + redis_exporter, nginx with `stub_status` +
nginx-prometheus-exporter, and node_exporter, each on 127.0.0.1 (node_exporter
on a random 127.x address, see `_start_node_exporter`) with its files in one
temporary directory, and stops every process it started however the block
ends. `running_prometheus()` runs the real Prometheus on a given config.
Every wait is bounded and a failure shows the process's own log.
"""

from __future__ import annotations

import glob
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from lab.processes import LOOPBACK, LabError, Process, free_port, http_get, running_process, wait_for

READY_TIMEOUT_SECONDS = 20.0
POLL_SECONDS = 0.1
REDIS_MAXMEMORY_BYTES = 64 * 1024 * 1024
# The port staging's node-exporter job keeps (`__address__` =~ `.+:9100`).
NODE_EXPORTER_PORT = 9100
# PostgreSQL refuses to run as root; Debian's package creates this account.
POSTGRES_ACCOUNT = "postgres"

# Debian package of each program the lab runs (what `make tools` installs).
PACKAGES = {
    "initdb": "postgresql",
    "redis-server": "redis-server",
    "nginx": "nginx",
    "prometheus-postgres-exporter": "prometheus-postgres-exporter",
    "prometheus-redis-exporter": "prometheus-redis-exporter",
    "prometheus-nginx-exporter": "prometheus-nginx-exporter",
    "prometheus-node-exporter": "prometheus-node-exporter",
    "prometheus": "prometheus",
}


@dataclass(frozen=True)
class RunningExporter:
    source: str  # the catalog source (infra.metrics.SCRAPED_BY_SOURCE key)
    address: str  # host:port of its /metrics
    version: str

    @property
    def url(self) -> str:
        return f"http://{self.address}/metrics"


def missing_programs() -> list[str]:
    """Debian packages whose program is not installed here."""
    return sorted({package for program, package in PACKAGES.items() if _program(program) is None})


def _program(name: str) -> str | None:
    if name == "initdb":
        # Debian keeps the server binaries out of PATH, one directory per major version.
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
        return found[-1] if found else shutil.which("initdb")
    return shutil.which(name)


def _require(name: str) -> str:
    path = _program(name)
    if path is None:
        raise LabError(f"{name} is not installed: run `make tools` (Debian package {PACKAGES[name]})")
    return path


# One sample line of the text exposition format: name, optional {labels}, value, optional timestamp.
_SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+-?\d+)?")


def series_names(exposition: str) -> frozenset[str]:
    """Sample names exactly as the exporter wrote them, which is what Prometheus stores.

    Not prometheus_client's parser: it rewrites every counter to the OpenMetrics
    form and reports `pg_stat_database_xact_commit` as `..._total`, a series that
    no Prometheus ever receives from this exporter.
    """
    names: set[str] = set()
    for number, line in enumerate(exposition.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        sample = _SAMPLE.fullmatch(line)
        if sample is None:
            raise ValueError(f"line {number} is not a sample of the text format: {line!r}")
        float(sample.group(3))  # NaN, +Inf and -Inf parse too; anything else is a broken exposition
        names.add(sample.group(1))
    return frozenset(names)


def _wait_until(process: Process, ready: Callable[[], bool], what: str) -> None:
    """Poll `ready` (a server not listening yet counts as not ready); fail early if the process died."""
    wait_for(
        what, ready, READY_TIMEOUT_SECONDS, process=process, not_yet=(OSError, ValueError), poll_seconds=POLL_SECONDS
    )


def _version(command: list[str]) -> str:
    """`<program> <version>` from its version output (each exporter words it differently)."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    found = re.search(r"\d+\.\d+\.\d+\S*", result.stdout + result.stderr)
    return f"{Path(command[0]).name} {found.group(0) if found else '(unknown version)'}"


def _serves_metrics(url: str, marker: str = "") -> Callable[[], bool]:
    return lambda: marker in http_get(url)


def _redis_command(port: int, *args: str) -> bytes:
    """One command in RESP, the Redis protocol (no client library needed for a handful of writes)."""
    request = f"*{len(args)}\r\n" + "".join(f"${len(arg.encode())}\r\n{arg}\r\n" for arg in args)
    with socket.create_connection((LOOPBACK, port), timeout=2) as sock:
        sock.sendall(request.encode())
        return sock.recv(4096)


def _accepts(port: int) -> bool:
    with socket.create_connection((LOOPBACK, port), timeout=1):
        return True


def _as_root() -> bool:
    return os.geteuid() == 0


def _start_postgres(stack: ExitStack, workdir: Path) -> RunningExporter:
    initdb = _require("initdb")
    bindir = Path(initdb).parent
    pgdir = workdir / "postgres"
    pgdir.mkdir()
    user = None
    if _as_root():
        # The temp dir is root's (0700): the server's own directory must be the account's.
        shutil.chown(pgdir, POSTGRES_ACCOUNT, POSTGRES_ACCOUNT)
        os.chmod(workdir, 0o755)
        user = POSTGRES_ACCOUNT
    data = pgdir / "data"
    subprocess.run(
        [initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
        check=True,
        capture_output=True,
        user=user,
        cwd=pgdir,
        timeout=60,
    )
    port = free_port()
    server = stack.enter_context(
        running_process(
            "postgres",
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-c",
                f"listen_addresses={LOOPBACK}",
                "-c",
                f"unix_socket_directories={pgdir}",
                "-c",
                "fsync=off",
            ],
            pgdir,
            # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for clients.
            stop_signal=signal.SIGINT,
            user=user,
        )
    )
    _wait_until(server, lambda: _accepts(port), "listening port")
    exporter_port = free_port()
    address = f"{LOOPBACK}:{exporter_port}"
    exporter = stack.enter_context(
        running_process(
            "postgres_exporter",
            [_require("prometheus-postgres-exporter"), f"--web.listen-address={address}"],
            workdir,
            # The chart passes the DSN the same way: DATA_SOURCE_NAME from a Secret.
            env={"DATA_SOURCE_NAME": f"postgresql://postgres@{LOOPBACK}:{port}/postgres?sslmode=disable"},
        )
    )
    _wait_until(exporter, _serves_metrics(f"http://{address}/metrics", "\npg_up 1"), "pg_up 1")
    version = _version([_require("prometheus-postgres-exporter"), "--version"])
    return RunningExporter("postgres_exporter", address, version)


def _start_redis(stack: ExitStack, workdir: Path) -> RunningExporter:
    port = free_port()
    server = stack.enter_context(
        running_process(
            "redis",
            [
                _require("redis-server"),
                "--bind",
                LOOPBACK,
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--maxmemory",
                str(REDIS_MAXMEMORY_BYTES),
                "--maxmemory-policy",
                "allkeys-lru",
            ],
            workdir,
        )
    )
    _wait_until(server, lambda: _redis_command(port, "PING").startswith(b"+PONG"), "PONG")
    # A key with a TTL, one hit and one miss: the keyspace the app would give it.
    _redis_command(port, "SET", "lab:key", "1", "EX", "3600")
    _redis_command(port, "GET", "lab:key")
    _redis_command(port, "GET", "lab:absent")
    address = f"{LOOPBACK}:{free_port()}"
    exporter = stack.enter_context(
        running_process(
            "redis_exporter",
            [
                _require("prometheus-redis-exporter"),
                f"-redis.addr=redis://{LOOPBACK}:{port}",
                f"-web.listen-address={address}",
            ],
            workdir,
        )
    )
    _wait_until(exporter, _serves_metrics(f"http://{address}/metrics", "\nredis_up 1"), "redis_up 1")
    return RunningExporter("redis_exporter", address, _version([_require("prometheus-redis-exporter"), "-version"]))


def _start_nginx(stack: ExitStack, workdir: Path) -> RunningExporter:
    port = free_port()
    prefix = workdir / "nginx"
    prefix.mkdir()
    config = prefix / "nginx.conf"
    temp = "".join(
        f"    {kind}_temp_path {prefix}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config.write_text(
        "daemon off;\n"
        "worker_processes 1;\n"
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log warn;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        "    access_log off;\n"
        f"{temp}"
        f"    server {{\n        listen {LOOPBACK}:{port};\n"
        "        location = /stub_status { stub_status; }\n"
        "    }\n"
        "}\n"
    )
    status_url = f"http://{LOOPBACK}:{port}/stub_status"
    server = stack.enter_context(
        running_process("nginx", [_require("nginx"), "-p", str(prefix), "-c", str(config), "-e", "stderr"], workdir)
    )
    _wait_until(server, lambda: "Active connections" in http_get(status_url), "stub_status page")
    address = f"{LOOPBACK}:{free_port()}"
    exporter = stack.enter_context(
        running_process(
            "nginx_exporter",
            [
                _require("prometheus-nginx-exporter"),
                f"-nginx.scrape-uri={status_url}",
                f"-web.listen-address={address}",
            ],
            workdir,
        )
    )
    _wait_until(exporter, _serves_metrics(f"http://{address}/metrics", "\nnginx_up 1"), "nginx_up 1")
    return RunningExporter(
        "nginx-prometheus-exporter", address, _version([_require("prometheus-nginx-exporter"), "-version"])
    )


def _start_node_exporter(stack: ExitStack, workdir: Path) -> RunningExporter:
    # The staging job keeps only endpoints on port 9100 (`__address__` =~ `.+:9100`); to pass that
    # relabelling unchanged the lab listens on 9100 too, on a random loopback address so that
    # another node_exporter on this machine cannot be in the way.
    host = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    try:
        with socket.socket() as probe:
            probe.bind((host, NODE_EXPORTER_PORT))
    except OSError as error:
        raise LabError(
            f"port {NODE_EXPORTER_PORT} is taken on {host} ({error}): a node_exporter service listening on every "
            "address? Stop it (service prometheus-node-exporter stop); the lab needs that port on loopback"
        ) from error
    address = f"{host}:{NODE_EXPORTER_PORT}"
    exporter = stack.enter_context(
        running_process(
            "node_exporter", [_require("prometheus-node-exporter"), f"--web.listen-address={address}"], workdir
        )
    )
    _wait_until(exporter, _serves_metrics(f"http://{address}/metrics", "\nnode_load1 "), "node_load1")
    return RunningExporter("node_exporter", address, _version([_require("prometheus-node-exporter"), "--version"]))


@contextmanager
def running_exporters() -> Iterator[dict[str, RunningExporter]]:
    """Every lab exporter, ready (its own `*_up 1`), by catalog source; all stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="exporters-lab-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        started = [
            start(stack, workdir) for start in (_start_postgres, _start_redis, _start_nginx, _start_node_exporter)
        ]
        yield {exporter.source: exporter for exporter in started}


@contextmanager
def running_prometheus(
    config_yaml: str, address: str, rules_yaml: str = "", flags: tuple[str, ...] = ()
) -> Iterator[str]:
    """The real Prometheus on `config_yaml` at `address`, with a throwaway TSDB; yields its base URL.

    `address` is chosen by the caller because the config may scrape Prometheus itself.
    `rules_yaml`, when given, is written next to the config as `rules.yml`.
    """
    with tempfile.TemporaryDirectory(prefix="exporters-prometheus-") as tmp:
        workdir = Path(tmp)
        config = workdir / "prometheus.yml"
        config.write_text(config_yaml)
        if rules_yaml:
            (workdir / "rules.yml").write_text(rules_yaml)
        command = [
            _require("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address={address}",
            *flags,
        ]
        with running_process(f"prometheus-{address}", command, workdir) as prometheus:
            base = f"http://{address}"
            _wait_until(prometheus, lambda: "Ready" in http_get(f"{base}/-/ready"), "/-/ready")
            yield base
