"""Microsoft's KQL parser and binder (Kusto.Language, npm @kusto/language-service-next, MIT; installed into .tools by
`make install`) run by Node.js over queries, against the columns of the Log Analytics tables they read.

The table columns are Azure Monitor Logs' reference (Microsoft Learn, "Azure Monitor Logs reference", ADFActivityRun,
ADFPipelineRun, ADFTriggerRun), so a misspelled column, a wrong function or a type error in a saved query or an alert
is an error here as it would be in Log Analytics.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / ".tools" / "node_modules" / "@kusto" / "language-service-next"
_COMMON = ("_BilledSize:real, Category:string, CorrelationId:string, ErrorCode:string, ErrorMessage:string, EventMessage:string, "
           "Input:string, _IsBillable:string, Level:string, Location:string, OperationName:string, Output:string, "
           "ResourceId:string, _ResourceId:string, SourceSystem:string, Start:datetime, Status:string, _SubscriptionId:string, "
           "Tags:string, TenantId:string, TimeGenerated:datetime, Type:string, UserProperties:string, Annotations:string")
TABLES = {
    "ADFActivityRun": f"({_COMMON}, ActivityIterationCount:int, ActivityName:string, ActivityRunId:string, ActivityType:string, "
                      "EffectiveIntegrationRuntime:string, End:datetime, Error:string, FailureType:string, LinkedServiceName:string, "
                      "PipelineName:string, PipelineRunId:string)",
    "ADFPipelineRun": f"({_COMMON}, End:datetime, FailureType:string, Parameters:string, PipelineName:string, Predecessors:string, "
                      "RunId:string, SystemParameters:string)",
    "ADFTriggerRun": f"({_COMMON}, Parameters:string, SystemParameters:string, TriggerEvent:string, TriggerFailureType:string, "
                     "TriggerId:string, TriggerName:string, TriggerType:string)",
}
_SCRIPT = """
const root = process.argv[1];
require(root + '/bridge.js');
require(root + '/Kusto.Language.Bridge.js');
const K = Kusto.Language;
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const tables = Object.entries(input.tables).map(([name, schema]) => K.Symbols.TableSymbol.From(schema).WithName(name));
const globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.ctor('workspace', tables));
const result = {};
for (const [name, query] of Object.entries(input.queries)) {
  const diagnostics = K.KustoCode.ParseAndAnalyze(query, globals).GetDiagnostics();
  result[name] = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    if (d.Severity === 'Error') result[name].push(d.Message + ' at ' + d.Start);
  }
}
process.stdout.write(JSON.stringify(result));
"""


class KqlReferenceMissing(RuntimeError):
    pass


def kql_errors(queries: Mapping[str, str]) -> dict[str, list[str]]:
    """name -> the errors Kusto.Language reports for the query (empty: it parses and binds)."""
    node = shutil.which("node")
    if node is None or not (PACKAGE / "Kusto.Language.Bridge.js").is_file():
        raise KqlReferenceMissing(f"Kusto.Language is not installed at {PACKAGE} (or node is missing): run `make install`")
    done = subprocess.run([node, "-e", _SCRIPT, str(PACKAGE)], input=json.dumps({"tables": TABLES, "queries": dict(queries)}),
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Kusto.Language failed: {done.stderr.strip()[-400:]}")
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result
