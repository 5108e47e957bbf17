#!/usr/bin/env python3
"""Writes node_exporter_full_queries.json from a copy of Grafana's "Node
Exporter Full" dashboard (grafana.com 1860, rfmoz/grafana-dashboards
prometheus/node-exporter-full.json): the PromQL of every panel in the rows
the test covers, and the dashboard's template variables, as Grafana would
send them before substitution. Run it again when the dashboard changes:

    extract_dashboard_queries.py DASHBOARD.json COMMIT COMMIT_DATE > node_exporter_full_queries.json

The hand-written part of the file ("expected_no_data": queries that have no
data on some hosts, and why) is carried over from the committed file."""

import json
import os
import sys

ROWS = ["Quick CPU / Mem / Disk", "Basic CPU / Mem / Net / Disk"]
REPOSITORY = "https://github.com/rfmoz/grafana-dashboards"
PATH_IN_REPOSITORY = "prometheus/node-exporter-full.json"
COMMITTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_exporter_full_queries.json")


def panels_by_row(dashboard):
    """Yields (row title, panel) for the top-level panels; a collapsed row
    holds its panels inside itself, an open one is followed by them."""
    row = None
    for panel in dashboard["panels"]:
        if panel.get("type") == "row":
            row = panel.get("title")
            for inner in panel.get("panels", []):
                yield row, inner
            continue
        yield row, panel


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    dashboard_file, commit, commit_date = sys.argv[1:]
    with open(dashboard_file, encoding="utf-8") as file:
        dashboard = json.load(file)
    expected_no_data = {}
    if os.path.exists(COMMITTED):
        with open(COMMITTED, encoding="utf-8") as file:
            expected_no_data = json.load(file).get("expected_no_data", {})

    variables = []
    for variable in dashboard["templating"]["list"]:
        if variable.get("type") != "query":
            continue
        query = variable["query"]
        variables.append({
            "name": variable["name"],
            "query": query["query"] if isinstance(query, dict) else query,
            "multi": bool(variable.get("multi")),
            "include_all": bool(variable.get("includeAll")),
            "sort": variable.get("sort", 0),
        })

    panels = []
    for row, panel in panels_by_row(dashboard):
        if row not in ROWS:
            continue
        queries = []
        for target in panel.get("targets", []):
            if target.get("hide") or "expr" not in target:
                continue
            queries.append({
                "ref_id": target["refId"],
                "legend": target.get("legendFormat") or "",
                # Grafana's default for a Prometheus target is a range query.
                "instant": bool(target.get("instant")) and not target.get("range"),
                "expr": target["expr"],
            })
        panels.append({
            "row": row,
            "title": panel["title"],
            "id": panel["id"],
            "type": panel["type"],
            "max_data_points": panel.get("maxDataPoints"),
            "queries": queries,
        })

    out = {
        "comment": ("PromQL of the panels in the rows '" + "' and '".join(ROWS) + "' of Grafana's 'Node Exporter "
                    "Full' dashboard, quoted as data to test against (written by extract_dashboard_queries.py). "
                    "The dashboard is rfmoz/grafana-dashboards (Apache-2.0), at the commit below."),
        "source": {
            "url": f"{REPOSITORY}/blob/{commit}/{PATH_IN_REPOSITORY}",
            "grafana_com": "https://grafana.com/grafana/dashboards/1860",
            "commit": commit,
            "commit_date": commit_date,
            "dashboard_uid": dashboard.get("uid"),
            "dashboard_version": dashboard.get("version"),
            "schema_version": dashboard.get("schemaVersion"),
            "grafana_version": next((r.get("version") for r in dashboard.get("__requires", [])
                                     if r.get("id") == "grafana"), None),
        },
        "variables": variables,
        "panels": panels,
        "expected_no_data": expected_no_data,
    }
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
