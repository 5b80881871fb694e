"""Print Redocly's JSON lint report as lines; exit 1 on any error or warning."""

import json
import sys

report = json.load(sys.stdin)
for problem in report["problems"]:
    where = ", ".join(location["pointer"] for location in problem["location"])
    print(f"{problem['severity']} {problem['ruleId']}: {problem['message']} at {where}")
totals = report["totals"]
print(f"redocly lint: {totals['errors']} errors, {totals['warnings']} warnings")
sys.exit(1 if totals["errors"] or totals["warnings"] else 0)
