"""`scripts/deploy.py`: check everything, plan every part against what Azure holds, then (confirmed) apply.

Parts, in the order they are applied: the activity code (a new content-addressed version), the Batch pool, the
Purview definitions, the factory (switched to the new code version through its global parameters), its monitoring
(diagnostic setting, alerts, saved queries; factory_deploy.monitoring_publish) and the Synapse SQL. Nothing is
written before every check passed and the plan was shown; errors are one line, exit 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory_deploy import code_publish, factory_publish, monitoring_publish, pool_publish, preflight, synapse_publish
from factory_deploy.azure_clients import ARM_SCOPE, AzureClients, Endpoints
from factory_deploy.code_package import CodePackage, CodePackageError, build_code_package
from factory_deploy.env_config import (
    ENVIRONMENTS,
    ConfigError,
    EnvironmentConfig,
    factory_overrides,
    global_parameters,
    load_config,
    sql_variables,
)
from factory_deploy.env_config.factory import ACTIVITIES_FOLDER, global_parameter_specs
from factory_deploy.errors import DeployError
from factory_deploy.graph import FactoryGraphError, check_references, load_resources, publish_order
from factory_deploy.limits import check_factory_limits
from factory_deploy.plan import UNCHANGED, UPDATE, Change, render_plan, writes
from factory_deploy.render import OverrideError, RenderedResource, render_resources
from factory_deploy.sdk_models import check_factory

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("code", "pool", "purview", "factory", "monitoring", "synapse")
DEFAULT_GRACE_HOURS = 48  # the longest a run may still use an old code version (extract + transform + load, retries)


@dataclass
class Seams:
    """What tests replace: the credential, the endpoints, the Synapse connection, the clock and the terminal."""

    credential: Any = None
    endpoints: Endpoints | None = None
    sql_connect: synapse_publish.Connect | None = None
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    interactive: Callable[[], bool] = lambda: sys.stdin.isatty()
    ask: Callable[[str], str] = input
    out: Callable[[str], None] = print
    config_dir: Path | None = None  # None: the repo's config/


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="deploy.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS, help="the environment (config/<env>.json); local is refused")
    parser.add_argument("--dry-run", action="store_true", help="read what Azure holds, print the plan, write nothing")
    parser.add_argument("--out", type=Path, help="with --dry-run: render the bodies into this folder without reading Azure")
    parser.add_argument("--only", action="append", choices=PARTS, help="deploy only this part (repeatable)")
    parser.add_argument("--prune", action="store_true",
                        help="also delete factory resources, code versions (older than --grace-hours) and views no longer in the repo")
    parser.add_argument("--grace-hours", type=float, default=DEFAULT_GRACE_HOURS,
                        help=f"--prune keeps a superseded code version this long for runs in flight (default {DEFAULT_GRACE_HOURS})")
    parser.add_argument("--yes", action="store_true", help="apply to prod without asking (required when not on a terminal)")
    parser.add_argument("--purview-endpoint", help="Purview data plane endpoint instead of https://<purview.account>.purview.azure.com")
    parser.add_argument("--export-arm", type=Path, metavar="DIR",
                        help="write ARMTemplateForFactory.json and its parameters file into DIR and stop")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, seams: Seams | None = None) -> int:
    args = parse_args(argv)
    seams = seams or Seams()
    try:
        return _deploy(args, seams)
    except (DeployError, ConfigError, FactoryGraphError, CodePackageError, OverrideError) as exc:
        print(f"deploy: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("deploy: interrupted; triggers stopped by this deploy were restarted", file=sys.stderr)
        return 1
    except Exception as exc:  # the last line of defence: one line, never a traceback
        print(f"deploy: error: unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:400]}", file=sys.stderr)
        return 1


@dataclass(frozen=True)
class Desired:
    config: EnvironmentConfig
    package: CodePackage
    code_folder: str  # <container>/activities
    rendered: list[RenderedResource]
    global_parameters: dict[str, Any]
    scripts: list[synapse_publish.Script]


def desired_state(environment: str, config_dir: Path | None = None) -> Desired:
    """Everything the repo says the environment should hold (pure of Azure; checks the factory first)."""
    preflight.refuse_local(environment)
    config = load_config(environment, config_dir)
    resources = load_resources(ROOT / "adf")
    package = build_code_package(ROOT / "activities")
    code_folder = f"{config.storage.code_container}/{ACTIVITIES_FOLDER}"
    values = global_parameters(config) | {"activitiesFolderPath": package.folder_path(code_folder)}
    rendered = render_resources(publish_order(resources), config)
    problems = [str(p) for p in check_factory(ROOT / "adf")] + check_references(resources, set(values))
    problems += check_factory_limits((r.folder, r.body) for r in rendered)  # as the runner: the environment's values
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise DeployError(f"the factory is not deployable: {problems[0]}{more}; fix adf/ and retry")
    specs = {name: spec | {"value": values[name]} for name, spec in global_parameter_specs(config).items()}
    scripts = synapse_publish.load_scripts(ROOT / "synapse", sql_variables(config))
    return Desired(config, package, code_folder, rendered, specs, scripts)


def _deploy(args: argparse.Namespace, seams: Seams) -> int:
    desired = desired_state(args.env, seams.config_dir)
    config = desired.config
    parts = [p for p in PARTS if p in (args.only or PARTS)]
    if args.export_arm:
        _export_arm(args.export_arm, desired, seams)
        return 0
    preflight.check_sdk_versions()
    if args.dry_run and args.out:
        purview = _render(args.out, desired, _purview_inputs(args, config))
        seams.out(f"deploy --dry-run: rendered {len(desired.rendered)} factory resources, code version {desired.package.version} and "
                  f"{len(desired.scripts)} Synapse scripts for `{config.factory.name}` into {args.out}, {purview}; "
                  "nothing was read or written in Azure")
        return 0
    _check_placeholders(args, seams, config, parts)
    credential = seams.credential
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    clients = AzureClients(config, credential, seams.endpoints)
    secrets: dict[str, str] = {}
    if set(parts) - {"purview"}:  # Purview's client gets its own token (factory_deploy/purview.py)
        preflight.check_credential(credential, ARM_SCOPE)
        secrets = preflight.check_secrets(clients.secrets, _secret_names(seams, desired, parts))

    planned = _plan(args, seams, desired, clients, parts)
    seams.out(f"deploy plan for `{args.env}` (factory `{config.factory.name}`):")
    seams.out(render_plan([(part, changes) for part, (changes, _) in planned.items()]))
    pending = [c for changes, _ in planned.values() for c in writes(changes)]
    if args.dry_run:
        seams.out(f"deploy --dry-run: {len(pending)} change(s) planned, nothing written")
        return 0
    if not pending:
        seams.out(f"deploy: `{args.env}` is up to date; nothing written")
        return 0
    _confirm(args, seams, config, len(pending))
    sql_secrets = {variable: secrets[name] for variable, name in synapse_publish.SECRET_VARIABLES.items() if name in secrets}
    for _changes, apply in planned.values():
        apply(sql_secrets)
    seams.out(f"deploy: {', '.join(parts)} of `{args.env}` up to date ({len(pending)} change(s) applied)")
    return 0


def _export_arm(folder: Path, desired: Desired, seams: Seams) -> None:
    from factory_deploy.arm_export import arm_template, write_arm_template

    config = desired.config
    template, values = arm_template(desired.rendered, desired.global_parameters, config.factory.name, factory_overrides(config))
    path = write_arm_template(folder, template, values)
    seams.out(f"deploy: wrote {path} ({len(template['resources'])} resources) and ARMTemplateParametersForFactory.json for "
              f"`{config.factory.name}`; deploy it with `az deployment group create`, then start the triggers")


def _check_placeholders(args: argparse.Namespace, seams: Seams, config: EnvironmentConfig, parts: list[str]) -> None:
    """Publishing the factory refuses a config placeholder; anything else only warns about them."""
    # The factory publishes config values (global parameters): a placeholder there would go live.
    if args.dry_run or "factory" not in parts:
        for placeholder in preflight.placeholders(config):
            seams.out(f"deploy: warning: config/{args.env}.json still has placeholder {placeholder}; publishing the factory refuses it")
    else:
        preflight.check_config(config)


def _secret_names(seams: Seams, desired: Desired, parts: list[str]) -> list[str]:
    """The Key Vault secrets the chosen parts need, checked before anything is planned so a missing one fails early."""
    config = desired.config
    secret_names = []
    if "factory" in parts:
        secret_names += preflight.key_vault_secret_names([r.body for r in desired.rendered])
        secret_names += [config.spotify.client_secret_name, config.spotify.refresh_token_secret_name]
    if "synapse" in parts:
        secret_names += list(synapse_publish.SECRET_VARIABLES.values())
        if seams.sql_connect is None:
            preflight.check_odbc()
    return secret_names


Apply = Callable[[dict[str, str]], None]


def _plan(
    args: argparse.Namespace, seams: Seams, desired: Desired, clients: AzureClients, parts: list[str]
) -> dict[str, tuple[list[Change], Apply]]:
    """Each part's changes (reads only) and how to apply them."""
    config, log = desired.config, seams.out
    planned: dict[str, tuple[list[Change], Apply]] = {}
    prefix = ACTIVITIES_FOLDER
    if "code" in parts or "factory" in parts or "pool" in parts:
        stored = code_publish.read_versions(clients.code_container, prefix)
        code = code_publish.plan_code(desired.package, stored, desired.code_folder, seams.now(),
                                      dt.timedelta(hours=args.grace_hours), args.prune)
        if "code" in parts:
            planned["code"] = (code.changes, lambda _s: code_publish.apply_code(
                clients.code_container, desired.package, code, desired.code_folder, prefix, log))
        elif code.upload:
            raise DeployError(f"code version {desired.package.version} is not in `{desired.code_folder}` yet and the factory and pool "
                              "would switch to it: deploy the code part too (drop --only, or add --only code)")
    if "pool" in parts:
        requirements = f"{clients.blob_account_url}/{config.storage.code_container}/{prefix}/{desired.package.version}/requirements.txt"
        pool = pool_publish.plan_pool(config.batch.pool, pool_publish.read_pool(clients.batch, config),
                                      pool_publish.desired_pool(config, requirements))
        planned["pool"] = (pool.changes, lambda _s: pool_publish.apply_pool(clients.batch, config, pool, log))
    if "purview" in parts:
        planned["purview"] = _purview(args, desired, log)
    if "factory" in parts:
        group, name = config.factory.resource_group, config.factory.name
        state = factory_publish.read_state(clients.datafactory, group, name)
        factory = factory_publish.plan_factory(state, config.factory.location, desired.global_parameters, desired.rendered, args.prune,
                                               config.purview.resource_id)
        planned["factory"] = (factory.changes, lambda _s: factory_publish.apply_factory(clients.datafactory, group, name, factory, log))
    if "monitoring" in parts:  # after the factory: the diagnostic setting and the alerts are on it
        planned["monitoring"] = monitoring_publish.monitoring_part(clients, config, args.prune, log)
    if "synapse" in parts:
        connect = seams.sql_connect or _odbc_connect(config, clients.credential)
        sql_state = synapse_publish.read_state(connect, desired.scripts, config.synapse.database)
        sql = synapse_publish.plan_synapse(desired.scripts, sql_state, args.prune)
        planned["synapse"] = (sql.changes, lambda secrets: synapse_publish.apply_synapse(connect, sql, secrets, log))
    return planned


def _purview_inputs(args: argparse.Namespace, config: EnvironmentConfig) -> tuple[str, Any, Any]:
    """(endpoint, definitions, tables) for Purview; endpoint "" when the environment has no Purview account."""
    from activities.load.purview import declared_tables
    from factory_deploy.purview import load_definitions, term_links

    endpoint = args.purview_endpoint or config.purview.endpoint
    definitions = load_definitions(ROOT / "purview")
    tables = declared_tables(config.storage.curated_container, config.storage.serving_container)
    term_links(definitions.glossary, tables, config.storage.account)  # every glossary link resolves, or nothing is published
    return endpoint, definitions, tables


def _purview(args: argparse.Namespace, desired: Desired, log: Callable[[str], None]) -> tuple[list[Change], Apply]:
    from factory_deploy.purview import plan_account, publish_to_account

    config = desired.config
    endpoint, definitions, tables = _purview_inputs(args, config)
    if not endpoint:
        return [Change("purview", UNCHANGED, "(no Purview account configured)")], lambda _s: None
    plan = plan_account(endpoint, definitions, tables, config.storage.account, log, config.purview.collection_id)
    changes = [Change("purview", UNCHANGED if not plan.writes else UPDATE, f"purview/ at {endpoint}",
                      f"{plan.writes} write(s): " + ", ".join(sorted({f"{r.method} {r.path}" for r in plan.requests if r.is_write}))
                      if plan.writes else "")]

    def apply(_secrets: dict[str, str]) -> None:
        if plan.writes:
            publish_to_account(endpoint, definitions, tables, config.storage.account, log, config.purview.collection_id)

    return changes, apply


def _confirm(args: argparse.Namespace, seams: Seams, config: EnvironmentConfig, count: int) -> None:
    if config.environment != "prod" or args.yes:
        return
    if not seams.interactive():
        raise DeployError("refusing to change prod without confirmation: not on a terminal, so pass --yes (after a --dry-run)")
    answer = seams.ask(f"Apply {count} change(s) to prod factory `{config.factory.name}`? Type the factory name to confirm: ")
    if answer.strip() != config.factory.name:
        raise DeployError("prod deploy not confirmed; nothing written")


def _odbc_connect(config: EnvironmentConfig, credential: Any) -> synapse_publish.Connect:
    """Connections to the serverless endpoint with an Entra ID token (SQL_COPT_SS_ACCESS_TOKEN)."""
    import struct

    def connect(database: str) -> Any:
        import pyodbc

        token = credential.get_token("https://database.windows.net/.default").token.encode("utf-16-le")
        attrs = {1256: struct.pack(f"<I{len(token)}s", len(token), token)}
        return pyodbc.connect(
            f"Driver={{{preflight.ODBC_DRIVER}}};Server=tcp:{config.synapse.serverless_endpoint},1433;Database={database};Encrypt=yes",
            attrs_before=attrs, autocommit=True,
        )

    return connect


def _render(out: Path, desired: Desired, purview: tuple[str, Any, Any]) -> str:
    """The exact bodies a deploy sends, for review (an offline --dry-run); returns what it says of Purview."""
    from factory_deploy.purview import PlanRecorder, publish_purview

    out.mkdir(parents=True, exist_ok=True)
    endpoint, definitions, tables = purview
    recorder = PlanRecorder()
    if endpoint:
        publish_purview(recorder, definitions, tables, desired.config.storage.account, lambda _line: None,
                        desired.config.purview.collection_id)
        (out / "purview").mkdir(exist_ok=True)
        (out / "purview" / "requests.json").write_text(json.dumps(recorder.to_json(), indent=2))
    factory = factory_publish.merged_factory(None, desired.config.factory.location, desired.config.purview.resource_id) or {}
    factory["properties"] = {**factory.get("properties", {}), "globalParameters": desired.global_parameters}
    (out / "factory.json").write_text(json.dumps(factory, indent=2))
    for resource in desired.rendered:
        target = out / "adf" / resource.folder / f"{resource.name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(resource.body, indent=2))
    for script in desired.scripts:
        target = out / "synapse" / script.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"-- database: {script.database}\n{script.sql}")
    monitoring = monitoring_publish.render(desired.config)
    for label, body in monitoring.items():
        target = out / "monitoring" / f"{label}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(body, indent=2))
    plan = {
        "publishOrder": [f"{r.folder}/{r.name}" for r in desired.rendered],
        "codeVersion": desired.package.folder_path(desired.code_folder),
        "codeFiles": [name for name, _ in desired.package.files],
        "synapseScripts": [s.name for s in desired.scripts],
        "monitoring": list(monitoring),
        "purviewRequests": len(recorder.requests),
    }
    (out / "plan.json").write_text(json.dumps(plan, indent=2))
    if not endpoint:
        return "no Purview account configured"
    return f"{len(recorder.requests)} Purview requests ({recorder.writes} writes, as to an empty account) planned for `{endpoint}`"
