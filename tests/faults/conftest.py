"""Fixtures of the fault-injection suite (marker ``faults``): private services, seeded sites, cleanup by PID.

One private PostgreSQL cluster and one seeded template database per run (session scope:
seeding takes about half a minute); each test gets a site cloned from it, with Redis
servers of its own, and every process a test started is stopped at its end. The
machine's shared PostgreSQL and Redis are never touched.
"""

import shutil

import pytest

from tests.faults.processes import PrivatePostgres, PrivateRedis, port_open
from tests.faults.site import Site, seed_cluster

MISSING = [name for name in ("redis-server", "runuser") if shutil.which(name) is None]


@pytest.fixture(scope="session")
def fault_workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="session")
def private_postgres():
    if MISSING:
        pytest.skip(f"fault tests need {', '.join(MISSING)}")
    postgres = PrivatePostgres().init()
    try:
        postgres.start()
        yield postgres
    finally:
        postgres.destroy()


@pytest.fixture(scope="session")
def seed(private_postgres, fault_workdir):
    return seed_cluster(private_postgres, fault_workdir / "seed")


@pytest.fixture
def postgres(private_postgres):
    """The private cluster, running: a test that stopped it and failed must not break the next one."""
    if not port_open(private_postgres.port):
        private_postgres.start()
    yield private_postgres
    if not port_open(private_postgres.port):
        private_postgres.start()


@pytest.fixture
def private_redis(tmp_path):
    """Start private ``redis-server``s: ``private_redis()`` returns a running one; all stop at the end."""
    started: list[PrivateRedis] = []

    def start() -> PrivateRedis:
        redis = PrivateRedis(tmp_path / "redis")
        started.append(redis)  # before start(): one that never got ready is stopped too
        return redis.start()

    yield start
    for redis in started:
        redis.stop()


@pytest.fixture
def make_site(postgres, seed, fault_workdir, private_redis):
    """``make_site(cache=True, settings={...})``: a seeded site with its own broker Redis (and a cache Redis if asked)."""
    sites: list[Site] = []

    def make(*, cache: bool = False, settings: dict | None = None) -> Site:
        site = Site(
            postgres=postgres,
            seed=seed,
            workdir=fault_workdir,
            broker=private_redis(),
            cache=private_redis() if cache else None,
            settings=settings,
        )
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()
