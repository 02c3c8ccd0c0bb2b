"""Publish the factory, the activity code, the Purview definitions and the Synapse SQL to one environment.

    python scripts/deploy.py --env prod             # publish (needs Azure credentials: az login or a managed identity)
    python scripts/deploy.py --env prod --dry-run   # check and render everything into build/deploy/prod, touch nothing
    python scripts/deploy.py --env prod --only purview   # publish one part (code, purview, factory, synapse)

Every run first checks the factory against the ADF SDK models and its reference graph; resources are
published in dependency order, unchanged ones are skipped, triggers are stopped around the update.
Purview (config `purview.account`; none: skipped) gets purview/typedefs.json and purview/glossary.json, diffed
against what the account holds; --dry-run writes the requests an empty account would get to purview/requests.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from activities.load.purview import declared_tables  # noqa: E402
from env_config import ENVIRONMENTS, ConfigError, load_config, sql_variables  # noqa: E402
from env_config.factory import ACTIVITIES_FOLDER  # noqa: E402
from factory_deploy.graph import FactoryGraphError, check_references, load_resources, publish_order  # noqa: E402
from factory_deploy.limits import check_factory_limits  # noqa: E402
from factory_deploy.publish import DeployError  # noqa: E402
from factory_deploy.purview import PlanRecorder, load_definitions, publish_purview, term_links  # noqa: E402
from factory_deploy.render import render_factory, render_resources  # noqa: E402
from factory_deploy.sdk_models import check_factory  # noqa: E402
from local_synapse.engine import substitute_variables  # noqa: E402

SECRET_SQL_VARIABLES = {"MasterKeyPassword": "synapse-master-key-password"}  # sqlcmd variable -> Key Vault secret
PARTS = ("code", "purview", "factory", "synapse")  # publish order: Purview types exist before a load can register lineage


def activity_files() -> list[tuple[str, Path]]:
    """(blob path in the code container, local file) for the package Batch downloads."""
    files = []
    for path in sorted((ROOT / "activities").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files.append((f"{ACTIVITIES_FOLDER}/{path.relative_to(ROOT).as_posix()}", path))
    return files


def synapse_scripts(variables: dict[str, str]) -> list[tuple[str, str, str]]:
    """(database, name, sql) in the order they must run: database first, then setup, then views."""
    scripts = []
    for path in sorted((ROOT / "synapse" / "setup").glob("*.sql")) + sorted((ROOT / "synapse" / "views").glob("*.sql")):
        database = "master" if path.name.startswith("01_") and path.parent.name == "setup" else variables["Database"]
        scripts.append((database, path.relative_to(ROOT / "synapse").as_posix(), substitute_variables(path.read_text(), variables)))
    return scripts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS)
    parser.add_argument("--dry-run", action="store_true", help="check and render into --out, publish nothing")
    parser.add_argument("--out", type=Path, help="where --dry-run writes (default build/deploy/<env>)")
    parser.add_argument("--only", action="append", choices=PARTS,
                        help="publish only this part (repeatable); --dry-run always renders every part")
    parser.add_argument("--purview-endpoint",
                        help="Purview data plane endpoint instead of https://<purview.account>.purview.azure.com "
                             "(e.g. a fake Atlas server on http://127.0.0.1:<port>)")
    args = parser.parse_args(argv)

    try:
        config = load_config(args.env)
        resources = load_resources(ROOT / "adf")
        from env_config import global_parameters

        problems = [str(p) for p in check_factory(ROOT / "adf")]
        problems += check_references(resources, set(global_parameters(config)))
        problems += check_factory_limits((resource.folder, resource.body) for resource in resources.values())
        if problems:
            print("deploy: the factory is not deployable:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 2
        rendered = render_resources(publish_order(resources), config)
        purview = load_definitions(ROOT / "purview")
        purview_endpoint = args.purview_endpoint or config.purview.endpoint
        namespace = config.storage.account
        tables = declared_tables(config.storage.curated_container, config.storage.serving_container)
        term_links(purview.glossary, tables, namespace)  # every glossary link resolves, or nothing is published
    except (ConfigError, FactoryGraphError, KeyError, DeployError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 2

    factory_body = render_factory(config)
    # Secrets stay as $(name) placeholders until publish time, so a dry run never holds one.
    variables = {**sql_variables(config), **{name: f"$({name})" for name in SECRET_SQL_VARIABLES}}
    scripts = synapse_scripts(variables)
    code = activity_files()

    if args.dry_run:
        out = args.out or ROOT / "build" / "deploy" / args.env
        recorder = PlanRecorder()
        if purview_endpoint:
            publish_purview(recorder, purview, tables, namespace, lambda _line: None)
        _write_dry_run(out, factory_body, rendered, scripts, code, recorder)
        target = f"`{purview_endpoint}`" if purview_endpoint else "(no Purview account configured)"
        print(f"deploy --dry-run: {len(rendered)} factory resources, {len(code)} activity files, "
              f"{len(scripts)} Synapse scripts rendered for `{config.factory.name}`, {len(recorder.requests)} Purview "
              f"requests ({recorder.writes} writes, as to an empty account) planned for {target}, into {out}")
        return 0

    from factory_deploy.publish import publish_factory, run_synapse_scripts, upload_activity_code
    from factory_deploy.purview import publish_to_account

    parts = set(args.only or PARTS)
    try:
        if "synapse" in parts:
            secrets = _key_vault_secrets(config.key_vault.base_url)
            scripts = [(db, name, substitute_variables(sql, secrets)) for db, name, sql in scripts]
        if "code" in parts:
            upload_activity_code(config, code, print)
        if "purview" in parts:
            if purview_endpoint:
                publish_to_account(purview_endpoint, purview, tables, namespace, print)
            else:
                print(f"purview: skipped: no Purview account configured for `{args.env}` (config purview.account)")
        if "factory" in parts:
            publish_factory(config, factory_body, rendered, print)
        if "synapse" in parts:
            run_synapse_scripts(config, scripts, print)
    except DeployError as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    print(f"deploy: {', '.join(p for p in PARTS if p in parts)} of `{args.env}` up to date")
    return 0


def _key_vault_secrets(vault_url: str) -> dict[str, str]:
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    client = SecretClient(vault_url, DefaultAzureCredential())
    return {name: client.get_secret(secret).value or "" for name, secret in SECRET_SQL_VARIABLES.items()}


def _write_dry_run(out: Path, factory_body, rendered, scripts, code, recorder: PlanRecorder) -> None:  # type: ignore[no-untyped-def]
    out.mkdir(parents=True, exist_ok=True)
    (out / "purview").mkdir(exist_ok=True)
    (out / "purview" / "requests.json").write_text(json.dumps(recorder.to_json(), indent=2))
    (out / "factory.json").write_text(json.dumps(factory_body, indent=2))
    order = []
    for resource in rendered:
        target = out / "adf" / resource.folder / f"{resource.name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(resource.body, indent=2))
        order.append(f"{resource.folder}/{resource.name}")
    for database, name, sql in scripts:
        target = out / "synapse" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"-- database: {database}\n{sql}")
    plan = {"publishOrder": order, "activityFiles": [blob for blob, _ in code], "synapseScripts": [n for _, n, _ in scripts],
            "purviewRequests": len(recorder.requests)}
    (out / "plan.json").write_text(json.dumps(plan, indent=2))


if __name__ == "__main__":
    sys.exit(main())
