#!/usr/bin/env python3
"""Checks backup-capture documents for tests/e2e/capture.bats.

  capture_check.py fixture FIXTURE TENANT DOCS [--cache yes|no]
      compares the documents (the JSON lines docdump wrote) with what the
      fake Graph server serves from FIXTURE for TENANT: every object of
      every family, its members, sub-collections (settings, scheduled
      actions, definition values with their presentation values, script
      content), its assignments (targets, group and filter names from the
      fixture when --cache yes, ids only otherwise) and scope tags.
      Prints one line per family and exits 1 on the first difference.
  capture_check.py normalise DOCS
      prints the documents sorted by name, without capturedAt and with
      every sealed value as "oprun-sealed:v1:..." (sealing is randomised),
      one a line, so two captures can be compared with cmp.
"""
import json
import sys

PREFIX = "oprun-sealed:v1:"
NO_FILTER = "00000000-0000-0000-0000-000000000000"
TOP_KEYS = ["schema", "family", "id", "displayName", "capturedAt", "object",
            "assignments", "scopeTags"]
NAV = {"assignments", "settings", "definitionValues",
       "scheduledActionsForRule"}


def fail(msg):
    print("capture_check: " + msg, file=sys.stderr)
    sys.exit(1)


def load_docs(path):
    docs = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                docs[d["name"]] = d["doc"]
    return docs


def no_ids(v):
    """v without the "id" members the server gave sub-objects."""
    if isinstance(v, dict):
        return {k: no_ids(x) for k, x in v.items() if k != "id"}
    if isinstance(v, list):
        return [no_ids(x) for x in v]
    return v


def bound_id(url):
    return url.rsplit("('", 1)[1].rstrip("')")


def same(what, got, want):
    if got != want:
        fail("%s differs:\n  got  %s\n  want %s" % (
            what, json.dumps(got, sort_keys=True)[:2000],
            json.dumps(want, sort_keys=True)[:2000]))


def check_members(name, fam, obj, want):
    for k, v in want.items():
        if k in NAV:
            continue
        if k == "omaSettings":
            got = obj.get(k)
            same(name + ".omaSettings length", len(got), len(v))
            for i, (g, w) in enumerate(zip(got, v)):
                if w.get("isEncrypted"):
                    if not str(g.get("value", "")).startswith(PREFIX):
                        fail("%s.omaSettings[%d]: value not sealed" % (name, i))
                    if not g.get("secretReferenceValueId"):
                        fail("%s.omaSettings[%d]: no reference" % (name, i))
                    g = {x: y for x, y in g.items()
                         if x not in ("value", "secretReferenceValueId")}
                    w = {x: y for x, y in w.items() if x != "value"}
                same("%s.omaSettings[%d]" % (name, i), g, w)
            continue
        same("%s.%s" % (name, k), obj.get(k), v)
    if "assignments" in obj:
        fail(name + ": the object holds assignments")


def check_subs(name, fam, obj, want):
    if fam == "configurationPolicies":
        same(name + ".settings", no_ids(obj["settings"]), want["settings"])
    if fam == "deviceCompliancePolicies":
        same(name + ".scheduledActionsForRule",
             no_ids(obj["scheduledActionsForRule"]),
             want["scheduledActionsForRule"])
    if fam == "groupPolicyConfigurations":
        got = obj["definitionValues"]
        same(name + ".definitionValues length", len(got),
             len(want["definitionValues"]))
        for i, (g, w) in enumerate(zip(got, want["definitionValues"])):
            same("%s.dv[%d].definition" % (name, i), g["definition"]["id"],
                 bound_id(w["definition@odata.bind"]))
            same("%s.dv[%d].enabled" % (name, i), g["enabled"], w["enabled"])
            gp, wp = g["presentationValues"], w["presentationValues"]
            same("%s.dv[%d].presentationValues length" % (name, i),
                 len(gp), len(wp))
            for j, (a, b) in enumerate(zip(gp, wp)):
                same("%s.dv[%d].pv[%d].presentation" % (name, i, j),
                     a["presentation"]["id"],
                     bound_id(b["presentation@odata.bind"]))
                keep = {k: v for k, v in a.items() if k not in (
                    "id", "presentation", "createdDateTime",
                    "lastModifiedDateTime")}
                same("%s.dv[%d].pv[%d]" % (name, i, j), keep,
                     {k: v for k, v in b.items()
                      if k != "presentation@odata.bind"})


def ref(kind_map, id_, cache):
    if cache and id_ in kind_map:
        return {"id": id_, "displayName": kind_map[id_], "inCache": True}
    return {"id": id_, "displayName": None, "inCache": False}


def check_assignments(name, doc, want, t, cache):
    groups = {g["id"]: g["displayName"] for g in t.get("groups", [])}
    filters = {x["id"]: x["displayName"]
               for x in t.get("assignmentFilters", [])}
    got = doc["assignments"]
    same(name + " targets", [a["target"] for a in got],
         [a["target"] for a in want.get("assignments", [])])
    for i, a in enumerate(got):
        tg = a["target"]
        if not a.get("id"):
            fail("%s.assignments[%d]: no id" % (name, i))
        if tg.get("groupId"):
            same("%s.assignments[%d].group" % (name, i), a.get("group"),
                 ref(groups, tg["groupId"], cache))
        elif "group" in a:
            fail("%s.assignments[%d]: group on a non-group target" % (name, i))
        fid = tg.get("deviceAndAppManagementAssignmentFilterId")
        if fid and fid != NO_FILTER:
            w = ref(filters, fid, cache)
            w["type"] = tg.get("deviceAndAppManagementAssignmentFilterType")
            same("%s.assignments[%d].filter" % (name, i), a.get("filter"), w)
        elif "filter" in a:
            fail("%s.assignments[%d]: filter without a real one" % (name, i))


def check_tags(name, fam, doc, want, t, cache):
    tags = {"0": "Default"}
    tags.update({x["id"]: x["displayName"] for x in t.get("roleScopeTags", [])})
    prop = {"assignmentFilters": "roleScopeTags", "roleScopeTags": None}.get(
        fam, "roleScopeTagIds")
    ids = want.get(prop, []) if prop else []
    same(name + ".scopeTags", doc["scopeTags"],
         [ref(tags, i, cache) for i in ids])


def expected(t, fam):
    objs = list(t.get(fam, []))
    if fam == "roleScopeTags" and not any(o["id"] == "0" for o in objs):
        objs.insert(0, {"id": "0", "displayName": "Default",
                        "description": "Built-in scope tag",
                        "isBuiltIn": True})
    return objs


FAMILIES = ["deviceConfigurations", "deviceCompliancePolicies",
            "configurationPolicies", "groupPolicyConfigurations",
            "deviceManagementScripts", "assignmentFilters", "roleScopeTags"]


def check_fixture(fixture, tenant, docs_path, cache):
    f = json.load(open(fixture))
    t = next(x for x in f["tenants"] if x["name"] == tenant)
    docs = load_docs(docs_path)
    seen = 0
    for fam in FAMILIES:
        want = expected(t, fam)
        names = sorted("%s/%s.json" % (fam, o["id"]) for o in want)
        got = sorted(n for n in docs if n.startswith(fam + "/"))
        same(fam + " documents", got, names)
        for o in want:
            name = "%s/%s.json" % (fam, o["id"])
            doc = docs[name]
            same(name + " keys", list(doc.keys()), TOP_KEYS)
            same(name + " schema", doc["schema"], "oprun.backup.v1")
            same(name + " family/id", [doc["family"], doc["id"]],
                 [fam, o["id"]])
            label = "name" if fam == "configurationPolicies" else \
                "displayName"
            same(name + " displayName", doc["displayName"], o[label])
            check_members(name, fam, doc["object"], o)
            check_subs(name, fam, doc["object"], o)
            check_assignments(name, doc, o, t, cache)
            check_tags(name, fam, doc, o, t, cache)
        print("%s: %d documents, %d settings, %d assignments" % (
            fam, len(want),
            sum(len(docs["%s/%s.json" % (fam, o["id"])]["object"].get(
                "settings", [])) for o in want),
            sum(len(docs["%s/%s.json" % (fam, o["id"])]["assignments"])
                for o in want)))
        seen += len(want)
    same("documents", len(docs), seen)


def unsealed(v):
    if isinstance(v, dict):
        return {k: unsealed(x) for k, x in v.items()}
    if isinstance(v, list):
        return [unsealed(x) for x in v]
    if isinstance(v, str) and v.startswith(PREFIX):
        return PREFIX + "..."
    return v


def normalise(docs_path):
    docs = load_docs(docs_path)
    for n in sorted(docs):
        d = unsealed(docs[n])
        d.pop("capturedAt", None)
        print(n, json.dumps(d, sort_keys=True, separators=(",", ":")))


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "fixture":
        cache = True
        if len(sys.argv) == 7 and sys.argv[5] == "--cache":
            cache = sys.argv[6] == "yes"
        check_fixture(sys.argv[2], sys.argv[3], sys.argv[4], cache)
    elif len(sys.argv) == 3 and sys.argv[1] == "normalise":
        normalise(sys.argv[2])
    else:
        fail("usage: see the top of " + sys.argv[0])


main()
