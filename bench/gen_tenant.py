#!/usr/bin/env python3
"""Writes a fake Graph fixture for `make bench` row (m): the shipped
fixture's contoso tenant (apps, groups, filters, scope tags, ADMX
definitions) with N generated policies across the five policy families,
each with settings and assignments, at Graph's real page sizes.

    python3 bench/gen_tenant.py N > fixture.json

Deterministic: the same N gives the same file.  Also prints, on stderr,
one JSON line with the per-family counts the bench needs to work out the
fewest Graph requests a capture can make (see bench.c, capture_minimum).
"""
import json, os, sys, uuid

NS = uuid.UUID("6f1c2a9e-0000-4000-8000-000000000000")
BETA = "https://graph.microsoft.com/beta/deviceManagement"
NO_FILTER = "00000000-0000-0000-0000-000000000000"
# Shares of N: deviceConfigurations, compliance, settings catalog,
# administrative templates, scripts.
SHARES = [("deviceConfigurations", 30), ("deviceCompliancePolicies", 15),
          ("configurationPolicies", 30), ("groupPolicyConfigurations", 10),
          ("deviceManagementScripts", 15)]
SETTINGS = 30          # per settings-catalog policy: two pages of 25
ASSIGNMENTS = 3        # per policy
# Per administrative template: one value without presentations and one
# with a text box (the built-in definitions that have exactly one).


def load_base():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "tests", "fakegraph", "fixture.json")) as f:
        base = json.load(f)
    return base, next(t for t in base["tenants"] if t["name"] == "contoso")

def pid(family, n):
    return str(uuid.uuid5(NS, f"bench/{family}/{n}"))

def assignments(groups, filters, n):
    out = []
    for k in range(ASSIGNMENTS):
        g = groups[(n * 7 + k * 13) % len(groups)]["id"]
        t = {"@odata.type": "#microsoft.graph.groupAssignmentTarget",
             "groupId": g,
             "deviceAndAppManagementAssignmentFilterId": NO_FILTER,
             "deviceAndAppManagementAssignmentFilterType": "none"}
        if k == 0 and n % 3 == 0:
            t["deviceAndAppManagementAssignmentFilterId"] = filters[0]["id"]
            t["deviceAndAppManagementAssignmentFilterType"] = "include"
        out.append({"target": t})
    return out

def devconf(n, a):
    return {"@odata.type": "#microsoft.graph.windows10CustomConfiguration",
            "id": pid("dc", n), "displayName": f"Bench config {n:05d}",
            "description": "generated", "roleScopeTagIds": ["0"],
            "omaSettings": [{"@odata.type": "#microsoft.graph.omaSettingInteger",
                             "displayName": f"Setting{k}",
                             "omaUri": f"./Device/Vendor/MSFT/Policy/Config/Bench/S{k}",
                             "value": k} for k in range(5)],
            "assignments": a}

def compliance(n, a):
    return {"@odata.type": "#microsoft.graph.windows10CompliancePolicy",
            "id": pid("cp", n), "displayName": f"Bench compliance {n:05d}",
            "passwordRequired": True, "passwordMinimumLength": 8 + n % 8,
            "scheduledActionsForRule": [{"ruleName": "PasswordRequired",
                "scheduledActionConfigurations": [{"actionType": "block",
                    "gracePeriodHours": 0, "notificationTemplateId": ""}]}],
            "assignments": a}

def confpol(n, a):
    def setting(k):
        d = f"device_vendor_msft_policy_config_bench_setting{k}"
        return {"@odata.type": "#microsoft.graph.deviceManagementConfigurationSetting",
                "settingInstance": {
                    "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
                    "settingDefinitionId": d,
                    "choiceSettingValue": {
                        "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingValue",
                        "value": f"{d}_{(n + k) % 2}", "children": []}}}
    return {"id": pid("sc", n), "name": f"Bench settings {n:05d}",
            "description": "", "platforms": "windows10", "technologies": "mdm",
            "roleScopeTagIds": ["0"],
            "templateReference": {"templateId": "", "templateFamily": "none"},
            "settings": [setting(k) for k in range(SETTINGS)], "assignments": a}

def gpconf(n, a, defs):
    def value(df):
        return {"enabled": True,
                "definition@odata.bind": f"{BETA}/groupPolicyDefinitions('{df['id']}')",
                "presentationValues": []}
    plain = [d for d in defs if not d["presentations"] and
             d["policyType"] == "admxBacked"]
    with_text = [d for d in defs if d["policyType"] == "admxBacked" and
                 len(d["presentations"]) == 1]
    vals = [value(plain[0])]
    for d in with_text[:1]:
        pr = d["presentations"][0]
        vals.append({"enabled": True,
                     "definition@odata.bind": f"{BETA}/groupPolicyDefinitions('{d['id']}')",
                     "presentationValues": [{
                         "@odata.type": "#microsoft.graph.groupPolicyPresentationValueText",
                         "value": f"https://bench{n}.example",
                         "presentation@odata.bind":
                             f"{BETA}/groupPolicyDefinitions('{d['id']}')/presentations('{pr['id']}')"}]})
    return {"id": pid("gp", n), "displayName": f"Bench templates {n:05d}",
            "description": "", "roleScopeTagIds": ["0"],
            "definitionValues": vals, "assignments": a}

def script(n, a):
    return {"@odata.type": "#microsoft.graph.deviceManagementScript",
            "id": pid("ps", n), "displayName": f"Bench script {n:05d}",
            "description": "", "fileName": f"bench{n}.ps1",
            "runAsAccount": "system", "enforceSignatureCheck": False,
            "runAs32Bit": False, "roleScopeTagIds": ["0"],
            "scriptContent": "V3JpdGUtT3V0cHV0ICJiZW5jaCI=", "assignments": a}

def main():
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    base, contoso = load_base()
    groups, filters = contoso["groups"], contoso["assignmentFilters"]
    defs = contoso["groupPolicyDefinitions"]
    counts, n = {}, 0
    tenant = {k: contoso[k] for k in ("id", "name", "apps", "users", "groups",
                                      "roleScopeTags", "assignmentFilters",
                                      "groupPolicyDefinitions")}
    for family, share in SHARES:
        k = total * share // 100
        if family == SHARES[-1][0]:
            k = total - n
        items = []
        for i in range(k):
            a = assignments(groups, filters, n + i)
            items.append({"deviceConfigurations": lambda: devconf(i, a),
                          "deviceCompliancePolicies": lambda: compliance(i, a),
                          "configurationPolicies": lambda: confpol(i, a),
                          "groupPolicyConfigurations": lambda: gpconf(i, a, defs),
                          "deviceManagementScripts": lambda: script(i, a)}[family]())
        tenant[family] = items
        counts[family] = k
        n += k
    fixture = {"token_lifetime_s": 3599, "page_max": {"groups": 999},
               "throttle": {"writes_per_window": 0, "window_s": 20},
               "batch_shuffle": True, "batch_seed": 1, "tenants": [tenant]}
    json.dump(fixture, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    counts.update({"settings_per_policy": SETTINGS,
                   "assignments_per_policy": ASSIGNMENTS,
                   "definition_values": len(tenant["groupPolicyConfigurations"][0]["definitionValues"]) if tenant["groupPolicyConfigurations"] else 0,
                   "assignmentFilters": len(filters),
                   "roleScopeTags": len(contoso["roleScopeTags"]) + 1})
    sys.stderr.write(json.dumps(counts) + "\n")

main()
