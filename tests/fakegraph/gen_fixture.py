#!/usr/bin/env python3
"""Generates tests/fakegraph/fixture.json (deterministic: no randomness)."""
import json, sys, uuid

NS = uuid.UUID("6f1c2a9e-0000-4000-8000-000000000000")
CONTOSO = "11111111-1111-1111-1111-111111111111"
FABRIKAM = "22222222-2222-2222-2222-222222222222"
DM_RW = "DeviceManagementConfiguration.ReadWrite.All"
DM_R = "DeviceManagementConfiguration.Read.All"
RBAC_RW = "DeviceManagementRBAC.ReadWrite.All"
RBAC_R = "DeviceManagementRBAC.Read.All"
NO_FILTER = "00000000-0000-0000-0000-000000000000"
GRAPH_BETA = "https://graph.microsoft.com/beta/deviceManagement"

def gid(tenant, n):
    return str(uuid.uuid5(NS, f"{tenant}/group/{n}"))

def groups(tenant, count):
    depts = ["HR", "Finance", "Sales", "Marketing", "Engineering", "Legal",
             "Support", "Operations", "Research", "IT"]
    kinds = ["Users", "Devices", "Admins", "Pilot", "Ring1", "Ring2"]
    regions = ["EU", "US", "APAC"]
    out = [
        {"displayName": "Intune Pilot Devices", "description": "Pilot ring",
         "groupTypes": ["DynamicMembership"]},
        {"displayName": "Intune Admins", "description": None, "groupTypes": []},
        {"displayName": "O'Brien Team", "description": "Team of Pat O'Brien",
         "groupTypes": ["Unified"]},
        {"displayName": "All Staff", "description": "Everyone at " + tenant,
         "groupTypes": ["Unified"]},
    ]
    for i in range(count):
        d, k, r = depts[i % 10], kinds[(i // 10) % 6], regions[(i // 60) % 3]
        style = i % 4
        if style == 0:
            name = f"{d} {k} {r} {i:03d}"
        elif style == 1:
            name = f"SG-{d}-{k}-{i:03d}"
        elif style == 2:
            name = f"{d}{k}{r}{i:03d}"
        else:
            name = f"Intune {k} {d} Win{10 + (i // 4) % 2} {i:03d}"
        desc = None if i % 7 == 0 else f"{k} of {d} in {r}"
        types = ["Unified"] if i % 5 == 0 else (
            ["DynamicMembership"] if i % 5 == 1 else [])
        out.append({"displayName": name, "description": desc,
                    "groupTypes": types})
    # Same name twice on purpose: group mapping by name must see a conflict.
    out.append({"displayName": "HR Users EU 000", "description": "duplicate name",
                "groupTypes": []})
    res = []
    for n, g in enumerate(out):
        unified = "Unified" in g["groupTypes"]
        nick = "".join(c for c in g["displayName"] if c.isalnum()).lower()[:40]
        res.append({
            "id": gid(tenant, n), "displayName": g["displayName"],
            "description": g["description"], "groupTypes": g["groupTypes"],
            "securityEnabled": not unified, "mailEnabled": unified,
            "mailNickname": nick,
            "mail": (nick + "@" + tenant + ".onmicrosoft.com") if unified else None,
        })
    return res

def target_group(g, filter_id=NO_FILTER, filter_type="none"):
    return {"@odata.type": "#microsoft.graph.groupAssignmentTarget",
            "groupId": g,
            "deviceAndAppManagementAssignmentFilterId": filter_id,
            "deviceAndAppManagementAssignmentFilterType": filter_type}

def oma(name, uri, value):
    return {"@odata.type": "#microsoft.graph.omaSettingInteger",
            "displayName": name, "omaUri": uri, "value": value}

def oma_secret(name, uri, value):
    return {"@odata.type": "#microsoft.graph.omaSettingString",
            "displayName": name, "omaUri": uri, "value": value,
            "isEncrypted": True}

def devconfs(tenant, grp, filters):
    t = lambda n: str(uuid.uuid5(NS, f"{tenant}/devconf/{n}"))
    return [
        {"@odata.type": "#microsoft.graph.windows10CustomConfiguration",
         "id": t(1), "displayName": "Win - Disable toasts", "description": "baseline",
         "version": 3, "roleScopeTagIds": ["0"], "supportsScopeTags": True,
         "createdDateTime": "2025-03-01T10:00:00Z",
         "lastModifiedDateTime": "2025-04-02T08:30:00Z",
         "omaSettings": [oma("AllowToasts",
            "./Device/Vendor/MSFT/Policy/Config/AboveLock/AllowToasts", 0),
            # Stored encrypted: GET masks it; getOmaSettingPlainTextValue.
            oma_secret("WiFiKey", "./Vendor/MSFT/WiFi/Profile/Corp/WlanXml",
                       f"{tenant}-oma-wifi-key")],
         "assignments": [{"target": target_group(grp[0]["id"], filters[0]["id"], "include")},
                         {"target": {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget",
                                     "groupId": grp[1]["id"]}}]},
        {"@odata.type": "#microsoft.graph.windows10GeneralConfiguration",
         "id": t(2), "displayName": "Win - General restrictions", "description": "",
         "version": 1, "roleScopeTagIds": ["0"], "supportsScopeTags": True,
         "passwordRequired": True, "passwordMinimumLength": 12,
         "assignments": [{"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}]},
        {"@odata.type": "#microsoft.graph.iosGeneralDeviceConfiguration",
         "id": t(3), "displayName": "iOS - Restrictions", "description": "",
         "version": 2, "roleScopeTagIds": ["0"], "supportsScopeTags": True,
         "cameraBlocked": False, "assignments": []},
        {"@odata.type": "#microsoft.graph.macOSCustomConfiguration",
         "id": t(4), "displayName": "macOS - Profile", "description": "",
         "version": 1, "roleScopeTagIds": ["0"], "supportsScopeTags": True,
         "payloadName": "profile", "payloadFileName": "profile.mobileconfig",
         "payload": "PD94bWwgdmVyc2lvbj0iMS4wIj8+", "assignments": []},
        # Same display name as the first one: name matching must see two.
        {"@odata.type": "#microsoft.graph.windows10CustomConfiguration",
         "id": t(5), "displayName": "Win - Disable toasts", "description": "copy",
         "version": 1, "roleScopeTagIds": ["0"], "supportsScopeTags": True,
         "omaSettings": [oma("AllowToasts",
            "./Device/Vendor/MSFT/Policy/Config/AboveLock/AllowToasts", 1)],
         "assignments": [{"target": {"@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget"}}]},
    ]

def compliance(tenant, grp):
    t = lambda n: str(uuid.uuid5(NS, f"{tenant}/compliance/{n}"))
    block = [{"ruleName": "PasswordRequired", "scheduledActionConfigurations": [
        {"actionType": "block", "gracePeriodHours": 0, "notificationTemplateId": ""}]}]
    return [
        {"@odata.type": "#microsoft.graph.windows10CompliancePolicy",
         "id": t(1), "displayName": "Win - Compliance", "version": 2,
         "passwordRequired": True, "passwordMinimumLength": 8,
         "bitLockerEnabled": True, "secureBootEnabled": True,
         "osMinimumVersion": "10.0.19045", "scheduledActionsForRule": block,
         "assignments": [{"target": target_group(grp[0]["id"])},
                         {"target": {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget",
                                     "groupId": grp[2]["id"]}}]},
        {"@odata.type": "#microsoft.graph.iosCompliancePolicy",
         "id": t(2), "displayName": "iOS - Compliance", "version": 1,
         "passcodeRequired": True, "scheduledActionsForRule": block,
         "assignments": []},
        {"@odata.type": "#microsoft.graph.macOSCompliancePolicy",
         "id": t(3), "displayName": "macOS - Compliance", "version": 1,
         "passwordRequired": True, "scheduledActionsForRule": block,
         "assignments": [{"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}]},
    ]

def choice(defid, value):
    return {"@odata.type": "#microsoft.graph.deviceManagementConfigurationSetting",
            "settingInstance": {
                "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
                "settingDefinitionId": defid,
                "choiceSettingValue": {
                    "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingValue",
                    "value": f"{defid}_{value}", "children": []}}}

def simple(defid, value):
    return {"@odata.type": "#microsoft.graph.deviceManagementConfigurationSetting",
            "settingInstance": {
                "@odata.type": "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance",
                "settingDefinitionId": defid,
                "simpleSettingValue": {
                    "@odata.type": "#microsoft.graph.deviceManagementConfigurationStringSettingValue",
                    "value": value}}}

def confpols(tenant, grp):
    t = lambda n: str(uuid.uuid5(NS, f"{tenant}/confpol/{n}"))
    many = [choice(f"device_vendor_msft_policy_config_example_setting{i}", i % 2)
            for i in range(7)]
    return [
        {"id": t(1), "name": "Win - Lock screen", "description": "",
         "platforms": "windows10", "technologies": "mdm", "roleScopeTagIds": ["0"],
         "templateReference": {"templateId": "", "templateFamily": "none"},
         "settings": [choice("device_vendor_msft_policy_config_abovelock_allowtoasts", 0),
                      simple("example_simple_setting_id", "google")],
         "assignments": [{"target": target_group(grp[0]["id"])}]},
        {"id": t(2), "name": "Win - Many settings", "description": "seven settings",
         "platforms": "windows10", "technologies": "mdm", "roleScopeTagIds": ["0"],
         "templateReference": {"templateId": "", "templateFamily": "none"},
         "settings": many, "assignments": []},
        {"id": t(3), "name": "macOS - Settings", "description": "",
         "platforms": "macOS", "technologies": "mdm,appleRemoteManagement",
         "roleScopeTagIds": ["0"],
         "templateReference": {"templateId": "", "templateFamily": "none"},
         "settings": [simple("com.apple.example_setting", "on")], "assignments": []},
    ]

def scope_tags(tenant):
    # "0" (Default) is built in.  The same name has another id in
    # fabrikam, so a cross-tenant restore must map tags by name.
    if tenant == "contoso":
        return [{"id": "1", "displayName": "Tier1 Support",
                 "description": "Helpdesk scope"},
                {"id": "2", "displayName": "EU Devices", "description": ""}]
    return [{"id": "1", "displayName": "EU Devices", "description": ""}]

def assignment_filters(tenant):
    t = lambda n: str(uuid.uuid5(NS, f"{tenant}/filter/{n}"))
    return [
        {"id": t(1), "displayName": "Win corporate", "description": "",
         "platform": "windows10AndLater",
         "rule": '(device.deviceOwnership -eq "Corporate")',
         "assignmentFilterManagementType": "devices", "roleScopeTags": ["0"]},
        {"id": t(2), "displayName": "iOS supervised", "description": "",
         "platform": "iOS", "rule": "(device.isSupervised -eq true)",
         "assignmentFilterManagementType": "devices", "roleScopeTags": ["0"]},
    ]

def gp_definitions(tenant):
    # Built-in ADMX definitions have the same ids in every tenant;
    # ingested (custom) ones differ (docs/graph.md A1).
    b = lambda n: str(uuid.uuid5(NS, f"builtin/gpdef/{n}"))
    p = lambda d, n: str(uuid.uuid5(NS, f"{d}/presentation/{n}"))
    def pres(d, n, kind, label):
        return {"@odata.type": f"#microsoft.graph.groupPolicyPresentation{kind}",
                "id": p(d, n), "label": label}
    defs = [
        {"id": b(1), "displayName": "Turn off toast notifications",
         "classType": "user", "policyType": "admxBacked",
         "categoryPath": "\\Start Menu and Taskbar\\Notifications",
         "presentations": []},
        {"id": b(2), "displayName": "Set the intranet home page",
         "classType": "machine", "policyType": "admxBacked",
         "categoryPath": "\\Microsoft Edge\\Startup",
         "presentations": [pres(b(2), 1, "TextBox", "Home page URL")]},
        {"id": b(3), "displayName": "Screen saver timeout",
         "classType": "user", "policyType": "admxBacked",
         "categoryPath": "\\Control Panel\\Personalization",
         "presentations": [pres(b(3), 1, "DecimalTextBox", "Seconds"),
                           pres(b(3), 2, "CheckBox", "Password protect"),
                           pres(b(3), 3, "Text", "Values in seconds")]},
        {"id": b(4), "displayName": "Allowed sites",
         "classType": "machine", "policyType": "admxBacked",
         "categoryPath": "\\Microsoft Edge\\Content settings",
         "presentations": [pres(b(4), 1, "ListBox", "Sites"),
                           pres(b(4), 2, "MultiTextBox", "Notes"),
                           pres(b(4), 3, "DropdownList", "Mode")]},
    ]
    if tenant == "contoso":
        c = str(uuid.uuid5(NS, "contoso/gpdef/custom/1"))
        defs.append({"id": c, "displayName": "Contoso line-of-business setting",
                     "classType": "machine", "policyType": "admxIngested",
                     "categoryPath": "\\Contoso\\LOB",
                     "presentations": [pres(c, 1, "TextBox", "Server")]})
    return defs

def gp_bind(defid, presid=None):
    url = f"{GRAPH_BETA}/groupPolicyDefinitions('{defid}')"
    return url if presid is None else f"{url}/presentations('{presid}')"

def gp_configs(tenant, grp, defs):
    t = lambda n: str(uuid.uuid5(NS, f"{tenant}/gpconf/{n}"))
    d = {x["displayName"]: x for x in defs}
    def value(name, enabled=True, pvs=()):
        df = d[name]
        out = []
        for i, v in pvs:
            pr = df["presentations"][i]
            kind = pr["@odata.type"].split("Presentation", 1)[1]
            vt = {"TextBox": "Text", "DropdownList": "Text",
                  "DecimalTextBox": "Decimal", "CheckBox": "Boolean",
                  "ListBox": "List", "MultiTextBox": "MultiText"}[kind]
            key = "values" if vt in ("List", "MultiText") else "value"
            out.append({"@odata.type": f"#microsoft.graph.groupPolicyPresentationValue{vt}",
                        key: v, "presentation@odata.bind": gp_bind(df["id"], pr["id"])})
        return {"enabled": enabled, "definition@odata.bind": gp_bind(df["id"]),
                "presentationValues": out}
    confs = [
        {"id": t(1), "displayName": "Win - Admin templates baseline",
         "description": "toasts, home page, screen saver, sites",
         "roleScopeTagIds": ["0"],
         "definitionValues": [
             value("Turn off toast notifications"),
             value("Set the intranet home page", True,
                   [(0, f"https://intranet.{tenant}.example")]),
             value("Screen saver timeout", True, [(0, 600), (1, True)]),
             value("Allowed sites", True,
                   [(0, [{"name": "1", "value": "https://a.example"},
                         {"name": "2", "value": "https://b.example"}]),
                    (1, ["first note", "second note"]), (2, "allow")])],
         "assignments": [{"target": target_group(grp[0]["id"])}]},
    ]
    if tenant == "contoso":
        confs.append(
            {"id": t(2), "displayName": "Win - Custom ADMX",
             "description": "uses an ingested definition",
             "roleScopeTagIds": ["0", "1"],
             "definitionValues": [
                 value("Contoso line-of-business setting", True,
                       [(0, "lob.contoso.example")]),
                 value("Turn off toast notifications", False)],
             "assignments": []})
    return confs

def scripts(tenant, grp):
    t = lambda n: str(uuid.uuid5(NS, f"{tenant}/script/{n}"))
    return [
        {"@odata.type": "#microsoft.graph.deviceManagementScript",
         "id": t(1), "displayName": "Set time zone", "description": "",
         "fileName": "Set-TimeZone.ps1", "runAsAccount": "system",
         "enforceSignatureCheck": False, "runAs32Bit": False,
         "roleScopeTagIds": ["0"],
         # base64 of: Set-TimeZone -Id "W. Europe Standard Time"
         "scriptContent": "U2V0LVRpbWVab25lIC1JZCAiVy4gRXVyb3BlIFN0YW5kYXJkIFRpbWUi",
         "assignments": [{"target": target_group(grp[0]["id"])}]},
        {"@odata.type": "#microsoft.graph.deviceManagementScript",
         "id": t(2), "displayName": "Map drives", "description": "user script",
         "fileName": "Map-Drives.ps1", "runAsAccount": "user",
         "enforceSignatureCheck": False, "runAs32Bit": True,
         "roleScopeTagIds": ["0"],
         # base64 of: net use H: \\fs\home
         "scriptContent": "bmV0IHVzZSBIOiBcXGZzXGhvbWU=",
         "assignments": []},
    ]

def app(tenant, n, secret, roles, name):
    return {"client_id": str(uuid.uuid5(NS, f"{tenant}/app/{n}")),
            "client_secret": secret, "displayName": name, "roles": roles}

contoso_groups = groups("contoso", 240)
fabrikam_groups = groups("fabrikam", 26)
contoso_filters = assignment_filters("contoso")
fabrikam_filters = assignment_filters("fabrikam")[:1]
contoso_defs = gp_definitions("contoso")
fabrikam_defs = gp_definitions("fabrikam")
fixture = {
    "token_lifetime_s": 3599,
    "page_sizes": {"deviceConfigurations": 2, "deviceCompliancePolicies": 2,
                   "configurationPolicies": 2, "settings": 3,
                   "assignments": 2, "groups": 100,
                   "groupPolicyConfigurations": 1, "definitionValues": 2,
                   "presentationValues": 2, "deviceManagementScripts": 1,
                   "assignmentFilters": 1, "roleScopeTags": 2},
    "page_max": {"groups": 999},
    "throttle": {"writes_per_window": 5, "window_s": 2},
    "batch_shuffle": True,
    "batch_seed": 1,
    "tenants": [
        {"id": CONTOSO, "name": "contoso",
         "apps": [
             app("contoso", 1, "contoso-backup-secret",
                 [DM_RW, "GroupMember.Read.All", RBAC_RW], "oprun backup"),
             app("contoso", 2, "contoso-reader-secret",
                 [DM_R, "Group.Read.All", RBAC_R], "oprun reader"),
             app("contoso", 3, "contoso-noroles-secret",
                 ["User.Read.All"], "no device management roles"),
         ],
         "users": [
             {"upn": "admin@contoso.onmicrosoft.com",
              "oid": str(uuid.uuid5(NS, "contoso/user/1")),
              "refresh_token": "contoso-admin-rt-1",
              "scp": ["GroupMember.Read.All", DM_RW, "User.Read", RBAC_RW]},
             {"upn": "helpdesk@contoso.onmicrosoft.com",
              "oid": str(uuid.uuid5(NS, "contoso/user/2")),
              "refresh_token": "contoso-helpdesk-rt-1",
              "scp": ["User.Read"]},
         ],
         "groups": contoso_groups,
         "roleScopeTags": scope_tags("contoso"),
         "assignmentFilters": contoso_filters,
         "deviceConfigurations": devconfs("contoso", contoso_groups, contoso_filters),
         "deviceCompliancePolicies": compliance("contoso", contoso_groups),
         "configurationPolicies": confpols("contoso", contoso_groups),
         "groupPolicyDefinitions": contoso_defs,
         "groupPolicyConfigurations": gp_configs("contoso", contoso_groups, contoso_defs),
         "deviceManagementScripts": scripts("contoso", contoso_groups)},
        {"id": FABRIKAM, "name": "fabrikam",
         "apps": [app("fabrikam", 1, "fabrikam-backup-secret",
                      [DM_RW, "GroupMember.Read.All", RBAC_RW], "oprun backup")],
         "users": [
             {"upn": "admin@fabrikam.onmicrosoft.com",
              "oid": str(uuid.uuid5(NS, "fabrikam/user/1")),
              "refresh_token": "fabrikam-admin-rt-1",
              "scp": ["GroupMember.Read.All", DM_RW, "User.Read", RBAC_RW]}],
         "groups": fabrikam_groups,
         "roleScopeTags": scope_tags("fabrikam"),
         "assignmentFilters": fabrikam_filters,
         "deviceConfigurations": devconfs("fabrikam", fabrikam_groups, fabrikam_filters)[:2],
         "deviceCompliancePolicies": compliance("fabrikam", fabrikam_groups)[:1],
         "configurationPolicies": confpols("fabrikam", fabrikam_groups)[:1],
         "groupPolicyDefinitions": fabrikam_defs,
         "groupPolicyConfigurations": gp_configs("fabrikam", fabrikam_groups, fabrikam_defs),
         "deviceManagementScripts": scripts("fabrikam", fabrikam_groups)[:1]},
    ],
}
json.dump(fixture, sys.stdout, indent=1)
sys.stdout.write("\n")
