"""`scripts/deploy.py --dry-run` renders exactly what would be published, with no Azure access."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _deploy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "deploy.py"), *args], capture_output=True, text=True, timeout=120)


def test_when_dry_running_prod_then_names_follow_prod_config_and_order_follows_references(tmp_path: Path) -> None:
    result = _deploy("--env", "prod", "--dry-run", "--out", str(tmp_path))

    assert result.returncode == 0, result.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    order = plan["publishOrder"]
    assert order.index("linkedServices/Ls_KeyVault") < order.index("linkedServices/Ls_Batch")
    assert order.index("pipelines/PL_Transform_Spotify") < order.index("triggers/TR_Raw_Landed")
    blob = json.loads((tmp_path / "adf" / "linkedServices" / "Ls_Blob_Storage.json").read_text())
    assert blob["properties"]["typeProperties"]["serviceEndpoint"] == "https://stspotifyprod.blob.core.windows.net/"
    factory = json.loads((tmp_path / "factory.json").read_text())
    assert factory["properties"]["globalParameters"]["spotifyMarkets"]["type"] == "Array"
    assert plan["codeFiles"] == ["activities.pyz", "requirements.txt"]
    assert plan["codeVersion"] == factory["properties"]["globalParameters"]["activitiesFolderPath"]["value"]
    assert plan["codeVersion"].startswith("batch-code/activities/")
    sql = (tmp_path / "synapse" / "setup" / "02_data_sources.sql").read_text()
    assert "https://stspotifyprod.blob.core.windows.net/curated" in sql
    assert "$(MasterKeyPassword)" in sql  # secrets are only substituted at publish time


def test_when_a_factory_file_is_broken_then_deploy_refuses_with_the_file_named(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clone = tmp_path / "repo"
    for part in ("adf", "config", "factory_deploy", "synapse", "scripts", "activities"):
        shutil.copytree(ROOT / part, clone / part, ignore=shutil.ignore_patterns("__pycache__"))
    pipeline = clone / "adf" / "pipelines" / "PL_Extract_Spotify.json"
    pipeline.write_text(pipeline.read_text().replace('"command"', '"comand"'))

    result = subprocess.run(
        [sys.executable, str(clone / "scripts" / "deploy.py"), "--env", "dev", "--dry-run", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 1
    assert "key `comand` is unknown to CustomActivityTypeProperties" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_when_dry_running_prod_then_the_purview_requests_are_written_and_counted_without_sending_any(tmp_path: Path) -> None:
    result = _deploy("--env", "prod", "--dry-run", "--out", str(tmp_path))

    assert result.returncode == 0, result.stderr
    requests = json.loads((tmp_path / "purview" / "requests.json").read_text())
    writes = [r for r in requests if r["method"] != "GET"]
    assert f"{len(requests)} Purview requests ({len(writes)} writes, as to an empty account) planned for " \
           "`https://pv-spotify-prod.purview.azure.com`" in result.stdout
    assert json.loads((tmp_path / "plan.json").read_text())["purviewRequests"] == len(requests)
    assert all(r["path"].startswith("/datamap/api/atlas/v2/") for r in requests)
    typedefs = json.loads((ROOT / "purview" / "typedefs.json").read_text())
    (create_types,) = [r for r in writes if r["path"].endswith("/types/typedefs")]
    assert sorted(d["name"] for group in create_types["body"].values() for d in group) == sorted(
        d["name"] for group in typedefs.values() for d in group)
    glossary = json.loads((ROOT / "purview" / "glossary.json").read_text())
    assert [r["body"]["name"] for r in writes if r["path"].endswith("/glossary/term")] == [t["name"] for t in glossary["terms"]]
    created = [e["attributes"]["qualifiedName"] for r in writes if r["path"].endswith("/entity/bulk") for e in r["body"]["entities"]]
    assert "spotify://stspotifyprod/curated/tracks#popularity" in created  # namespaced by prod's storage account
    assert any(r["path"].endswith("/assignedEntities") for r in writes)


def test_when_deploy_plans_and_renders_then_it_imports_no_local_stand_in(tmp_path: Path) -> None:
    script = (
        "import sys; from factory_deploy.cli import main; code = main(['--env', 'prod', '--dry-run', '--out', sys.argv[1]]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('duckdb', 'offline')))"
    )
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=ROOT)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
