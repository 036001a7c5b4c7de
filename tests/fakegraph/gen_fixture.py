#!/usr/bin/env python3
"""Generates tests/fakegraph/fixture.json (deterministic: no randomness)."""
import json, sys, uuid

NS = uuid.UUID("6f1c2a9e-0000-4000-8000-000000000000")
CONTOSO = "11111111-1111-1111-1111-111111111111"
FABRIKAM = "22222222-2222-2222-2222-222222222222"
DM_RW = "DeviceManagementConfiguration.ReadWrite.All"
DM_R = "DeviceManagementConfiguration.Read.All"

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

def target_group(g):
    return {"@odata.type": "#microsoft.graph.groupAssignmentTarget",
            "groupId": g,
            "deviceAndAppManagementAssignmentFilterId": "00000000-0000-0000-0000-000000000000",
            "deviceAndAppManagementAssignmentFilterType": "none"}

def oma(name, uri, value):
    return {"@odata.type": "#microsoft.graph.omaSettingInteger",
            "displayName": name, "omaUri": uri, "value": value}

def devconfs(tenant, grp):
    t = lambda n: str(uuid.uuid5(NS, f"{tenant}/devconf/{n}"))
    return [
        {"@odata.type": "#microsoft.graph.windows10CustomConfiguration",
         "id": t(1), "displayName": "Win - Disable toasts", "description": "baseline",
         "version": 3, "roleScopeTagIds": ["0"], "supportsScopeTags": True,
         "createdDateTime": "2025-03-01T10:00:00Z",
         "lastModifiedDateTime": "2025-04-02T08:30:00Z",
         "omaSettings": [oma("AllowToasts",
            "./Device/Vendor/MSFT/Policy/Config/AboveLock/AllowToasts", 0)],
         "assignments": [{"target": target_group(grp[0]["id"])},
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

def app(tenant, n, secret, roles, name):
    return {"client_id": str(uuid.uuid5(NS, f"{tenant}/app/{n}")),
            "client_secret": secret, "displayName": name, "roles": roles}

contoso_groups = groups("contoso", 240)
fabrikam_groups = groups("fabrikam", 26)
fixture = {
    "token_lifetime_s": 3599,
    "page_sizes": {"deviceConfigurations": 2, "deviceCompliancePolicies": 2,
                   "configurationPolicies": 2, "settings": 3,
                   "assignments": 2, "groups": 100},
    "page_max": {"groups": 999},
    "throttle": {"writes_per_window": 5, "window_s": 2},
    "batch_shuffle": True,
    "batch_seed": 1,
    "tenants": [
        {"id": CONTOSO, "name": "contoso",
         "apps": [
             app("contoso", 1, "contoso-backup-secret",
                 [DM_RW, "GroupMember.Read.All"], "oprun backup"),
             app("contoso", 2, "contoso-reader-secret",
                 [DM_R, "Group.Read.All"], "oprun reader"),
             app("contoso", 3, "contoso-noroles-secret",
                 ["User.Read.All"], "no device management roles"),
         ],
         "users": [
             {"upn": "admin@contoso.onmicrosoft.com",
              "oid": str(uuid.uuid5(NS, "contoso/user/1")),
              "refresh_token": "contoso-admin-rt-1",
              "scp": ["GroupMember.Read.All", DM_RW, "User.Read"]},
             {"upn": "helpdesk@contoso.onmicrosoft.com",
              "oid": str(uuid.uuid5(NS, "contoso/user/2")),
              "refresh_token": "contoso-helpdesk-rt-1",
              "scp": ["User.Read"]},
         ],
         "groups": contoso_groups,
         "deviceConfigurations": devconfs("contoso", contoso_groups),
         "deviceCompliancePolicies": compliance("contoso", contoso_groups),
         "configurationPolicies": confpols("contoso", contoso_groups)},
        {"id": FABRIKAM, "name": "fabrikam",
         "apps": [app("fabrikam", 1, "fabrikam-backup-secret",
                      [DM_RW, "GroupMember.Read.All"], "oprun backup")],
         "users": [
             {"upn": "admin@fabrikam.onmicrosoft.com",
              "oid": str(uuid.uuid5(NS, "fabrikam/user/1")),
              "refresh_token": "fabrikam-admin-rt-1",
              "scp": ["GroupMember.Read.All", DM_RW, "User.Read"]}],
         "groups": fabrikam_groups,
         "deviceConfigurations": devconfs("fabrikam", fabrikam_groups)[:2],
         "deviceCompliancePolicies": compliance("fabrikam", fabrikam_groups)[:1],
         "configurationPolicies": confpols("fabrikam", fabrikam_groups)[:1]},
    ],
}
json.dump(fixture, sys.stdout, indent=1)
sys.stdout.write("\n")
