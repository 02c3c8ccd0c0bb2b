"""scripts/deploy.py wired to the fake ARM (tests/fake_arm.py) through the real SDK clients and to a recording
Synapse, for the deploy tests: `harness` deploys the committed repo to `dev` (config copied with a real-looking
client id and no Purview account) and keeps every request the fakes received.

Import the `harness` fixture by name into the test module that uses it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from factory_deploy.azure_clients import Endpoints
from factory_deploy.cli import Seams, main
from tests.fake_arm import FakeArmServer, FakeAzure, StaticCredential
from tests.fake_synapse import FakeSynapse

REPO = Path(__file__).resolve().parents[1]
FACTORY = "adf-spotify-dev"
ADF = (f"/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-spotify-dev"
       f"/providers/Microsoft.DataFactory/factories/{FACTORY}")
PARTS = ("--only", "code", "--only", "pool", "--only", "factory", "--only", "synapse")
SECRETS = {
    "spotify-client-secret": "s3cret", "spotify-refresh-token": "r3fresh", "batch-access-key": "k3y",
    "batch-storage-connection-string": "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=eA==",
    "synapse-master-key-password": "Str0ng!pass",
}
START = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)


@dataclass
class Harness:
    azure: FakeAzure
    sql: FakeSynapse
    seams: Seams
    out: list[str] = field(default_factory=list)
    clock: list[dt.datetime] = field(default_factory=lambda: [START])

    def deploy(self, *args: str, capsys: pytest.CaptureFixture[str] | None = None) -> int:
        self.out.clear()
        return main(["--env", "dev", *PARTS, *args], self.seams)

    def mark(self) -> int:
        """Where the requests of the next deploy start."""
        return len(self.azure.requests)

    def writes_since(self, mark: int) -> list[str]:
        return [str(r).replace(ADF, "") for r in self.azure.requests[mark:] if r.write]

    def trigger_states(self) -> dict[str, str]:
        return {n: self.azure.trigger_state(FACTORY, n) for n in self.azure.names(FACTORY, "triggers")}

    def edit(self, kind: str, name: str, **properties: object) -> None:
        """Change a resource in the factory as if the repo differed from it."""
        body = self.azure.resource(FACTORY, kind, name)
        assert body is not None
        body["properties"].update(properties)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    config = json.loads((REPO / "config" / "dev.json").read_text())
    config["spotify"]["clientId"] = "0a1b2c3d4e5f"
    config["purview"]["account"] = ""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "dev.json").write_text(json.dumps(config))
    azure = FakeAzure(secrets=dict(SECRETS))
    sql = FakeSynapse()
    with FakeArmServer(azure, tmp_path / "tls") as server:
        holder = Harness(azure, sql, Seams())
        azure.now = lambda: holder.clock[0]
        holder.seams = Seams(
            credential=StaticCredential(),
            endpoints=Endpoints(arm=server.url, blob=server.url, vault=server.url + "/",
                                transport={"connection_verify": server.ca_file}, verify_vault_challenge=False),
            sql_connect=sql.connect, now=lambda: holder.clock[0], interactive=lambda: False,
            ask=lambda prompt: "", out=holder.out.append, config_dir=tmp_path / "config",
        )
        yield holder
