#!/usr/bin/env bats
# The fake Graph server's beta Intune families (docs/graph.md A1-A3,
# C2 S4/S7/S8): administrative templates and their definition values,
# PowerShell scripts, assignment filters, role scope tags, encrypted OMA
# values, scheduleActionsForRules, write throttling per family and the
# fixture's reference checks, over real HTTP on 127.0.0.1.  Every test
# starts its own server on an ephemeral port in its own temp dir;
# teardown stops it and fails the test if it did not exit 0 or wrote
# anything to stderr (see fakegraph_helpers.bash).
#
# Needs $OPRUN_BUILD/fakegraph (make build/fakegraph); builds nothing.

bats_require_minimum_version 1.5.0
load helpers
load fakegraph_helpers

# Binds name definitions and presentations by Graph's own URL; the
# server takes any base (A1).
GB=https://graph.microsoft.com/beta/deviceManagement
DM=/beta/deviceManagement
GP=$DM/groupPolicyConfigurations
NO_FILTER=00000000-0000-0000-0000-000000000000
UNTHROTTLED='f["throttle"]["writes_per_window"] = 0'

# dm METHOD PATH [JSON]: a Graph request with $TOKEN under
# /beta/deviceManagement, with a JSON body when given.
dm() {
	if [ $# -ge 3 ]; then
		graph "$1" "$DM$2" -H 'Content-Type: application/json' -d "$3"
	else
		graph "$1" "$DM$2"
	fi
}

# inner: the text of the Intune nested error message of the last body.
inner() {
	body error.message | json_get Message
}

# bad_prop PROP: the last response is 400 ModelValidationFailure whose
# message names property PROP.
bad_prop() {
	if [ "$STATUS" != 400 ] || [ "$(body error.code)" != ModelValidationFailure ] ||
	    [[ "$(inner)" != *"'$1'"* ]]; then
		echo "expected 400 ModelValidationFailure naming '$1', got $STATUS: $BODY" >&2
		return 1
	fi
}

# def_id I / pres_id I J: ids of contoso's (shipped fixture) definition
# I and its presentation J; built-in definitions have the same ids in
# every tenant.
def_id() {
	fx "tenants.0.groupPolicyDefinitions.$1.id"
}
pres_id() {
	fx "tenants.0.groupPolicyDefinitions.$1.presentations.$2.id"
}

# def_bind DEF / pres_bind DEF PRES: @odata.bind URLs.
def_bind() {
	printf "%s/groupPolicyDefinitions('%s')" "$GB" "$1"
}
pres_bind() {
	printf "%s/groupPolicyDefinitions('%s')/presentations('%s')" "$GB" "$1" "$2"
}

# pres_value KIND JSON DEF PRES: a written presentation value of type
# groupPolicyPresentationValueKIND holding JSON.
pres_value() {
	local key=value
	case $1 in List | MultiText) key=values ;; esac
	printf '{"@odata.type":"#microsoft.graph.groupPolicyPresentationValue%s","%s":%s,"presentation@odata.bind":"%s"}' \
	    "$1" "$key" "$2" "$(pres_bind "$3" "$4")"
}

# def_value ENABLED DEF [PRESENTATION_VALUES_JSON]: a written
# definition value.
def_value() {
	printf '{"enabled":%s,"definition@odata.bind":"%s","presentationValues":[%s]}' \
	    "$1" "$(def_bind "$2")" "${3:-}"
}

# dv_of CONF DEF: the id of configuration CONF's value for definition
# DEF (one page is enough: at most 4 values, $top=10).
dv_of() {
	dm GET "/groupPolicyConfigurations/$1/definitionValues?\$expand=definition&\$top=10"
	[ "$STATUS" = 200 ] || return 1
	beval "[v[\"id\"] for v in d[\"value\"] if v[\"definition\"][\"id\"] == \"$2\"][0]"
}

# values_of CONF: every definition value of CONF with its definition and
# presentation values, as compact JSON sorted by id.
values_of() {
	dm GET "/groupPolicyConfigurations/$1/definitionValues?\$expand=definition,presentationValues&\$top=10"
	[ "$STATUS" = 200 ] || return 1
	[ "$(beval '"@odata.nextLink" in d')" = false ] || return 1
	beval 'sorted(d["value"], key=lambda v: v["id"])'
}

# group_target G [FILTER_ID]: an assignment target for group G.
group_target() {
	if [ -n "${2:-}" ]; then
		printf '{"target":{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"%s","deviceAndAppManagementAssignmentFilterId":"%s","deviceAndAppManagementAssignmentFilterType":"include"}}' "$1" "$2"
	else
		printf '{"target":{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"%s"}}' "$1"
	fi
}

# ---- version gating -----------------------------------------------------------

@test "the beta-only families under /v1.0 give 400 BadRequest 'Resource not found for the segment'" {
	fg_start
	TOKEN=$(app_token)
	for coll in groupPolicyConfigurations groupPolicyDefinitions \
	    deviceManagementScripts assignmentFilters roleScopeTags; do
		graph GET "/v1.0/deviceManagement/$coll"
		[ "$STATUS" = 400 ]
		[ "$(body error.code)" = BadRequest ]
		[ "$(body error.message)" = "Resource not found for the segment '$coll'." ]
		graph GET "$DM/$coll"
		[ "$STATUS" = 200 ]
	done
	graph POST /v1.0/deviceManagement/groupPolicyConfigurations \
	    -H 'Content-Type: application/json' -d '{"displayName":"x"}'
	[ "$STATUS" = 400 ]
	[ "$(body error.message)" = "Resource not found for the segment 'groupPolicyConfigurations'." ]
}

# ---- administrative templates ---------------------------------------------------

@test "definitionValues page by 2 through nextLink; \$expand=definition embeds the definition without presentations" {
	fg_start
	TOKEN=$(app_token)
	conf=$(fx tenants.0.groupPolicyConfigurations.0.id)
	want_names=$(json_eval '"\n".join(x["displayName"] for x in d["tenants"][0]["groupPolicyDefinitions"][:4])' <"$FIXTURE")

	collect "$FG$GP/$conf/definitionValues" 'v["id"]'
	[ "$PAGES" = 2 ]
	[ "$(wc -l <"$FG_DIR/items")" = 4 ]
	[ "$(sort -u "$FG_DIR/items" | wc -l)" = 4 ]
	ids=$(cat "$FG_DIR/items")
	# The same four, in order, as the configuration's expanded list.
	dm GET "/groupPolicyConfigurations/$conf?\$expand=definitionValues"
	[ "$(beval '"\n".join(v["id"] for v in d["definitionValues"])')" = "$ids" ]
	# Without $expand a value carries neither its definition nor its
	# presentation values.
	dm GET "/groupPolicyConfigurations/$conf/definitionValues"
	[ "$(beval 'any("definition" in v or "presentationValues" in v for v in d["value"])')" = false ]
	[ "$(beval 'd["value"][0]["enabled"]')" = true ]

	collect "$FG$GP/$conf/definitionValues?\$expand=definition" \
	    'v["definition"]["displayName"] + "|" + str("presentations" in v["definition"]) + "|" + str("presentationValues" in v)'
	[ "$PAGES" = 2 ]
	[ "$(cut -d'|' -f1 "$FG_DIR/items")" = "$want_names" ]
	[ "$(cut -d'|' -f2- "$FG_DIR/items" | sort -u)" = "False|False" ]
	# The nextLink kept $expand: page 2 embeds the definition too.
	[ "$(beval 'all("displayName" in v["definition"] for v in d["value"])')" = true ]
}

@test "PATCH of a definition value changes enabled only; presentationValues or a bad configurationType give 400; DELETE removes it" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	conf=$(fx tenants.0.groupPolicyConfigurations.0.id)
	dv=$(dv_of "$conf" "$(def_id 2)")
	[ -n "$dv" ]
	path="/groupPolicyConfigurations/$conf/definitionValues/$dv"

	dm PATCH "$path" '{"enabled":false}'
	[ "$STATUS" = 204 ]
	dm GET "$path?\$expand=presentationValues"
	[ "$(body enabled)" = false ]
	[ "$(beval '[v["value"] for v in d["presentationValues"]]')" = '[600,true]' ]
	before=$BODY

	dm PATCH "$path" "{\"presentationValues\":[$(pres_value Decimal 5 "$(def_id 2)" "$(pres_id 2 0)")]}"
	bad_prop presentationValues
	dm PATCH "$path" '{"configurationType":5}'
	bad_prop configurationType
	dm PATCH "$path" '{"enabled":"no"}'
	bad_prop enabled
	dm GET "$path?\$expand=presentationValues"
	[ "$BODY" = "$before" ]

	dm DELETE "$path"
	[ "$STATUS" = 204 ]
	dm GET "$path"
	[ "$STATUS" = 404 ]
	dm GET "/groupPolicyConfigurations/$conf/definitionValues?\$top=10"
	[ "$(beval 'len(d["value"])')" = 3 ]
}

@test "presentationValues?\$expand=presentation embeds the presentation; .../definition returns the definition" {
	fg_start
	TOKEN=$(app_token)
	conf=$(fx tenants.0.groupPolicyConfigurations.0.id)
	dv=$(dv_of "$conf" "$(def_id 2)")
	[ -n "$dv" ]

	dm GET "/groupPolicyConfigurations/$conf/definitionValues/$dv/presentationValues?\$expand=presentation"
	[ "$STATUS" = 200 ]
	[ "$(beval '[v["presentation"]["label"] for v in d["value"]]')" = '["Seconds","Password protect"]' ]
	[ "$(beval '[v["presentation"]["@odata.type"] for v in d["value"]]')" = \
	    '["#microsoft.graph.groupPolicyPresentationDecimalTextBox","#microsoft.graph.groupPolicyPresentationCheckBox"]' ]
	[ "$(beval '[v["presentation"]["id"] for v in d["value"]]')" = "[\"$(pres_id 2 0)\",\"$(pres_id 2 1)\"]" ]
	[ "$(beval '[v["@odata.type"] for v in d["value"]]')" = \
	    '["#microsoft.graph.groupPolicyPresentationValueDecimal","#microsoft.graph.groupPolicyPresentationValueBoolean"]' ]
	[ "$(beval '[v["value"] for v in d["value"]]')" = '[600,true]' ]
	# Without $expand there is no presentation.
	dm GET "/groupPolicyConfigurations/$conf/definitionValues/$dv/presentationValues"
	[ "$(beval 'any("presentation" in v for v in d["value"])')" = false ]
	[ "$(beval 'len(d["value"])')" = 2 ]

	dm GET "/groupPolicyConfigurations/$conf/definitionValues/$dv/definition"
	[ "$STATUS" = 200 ]
	[ "$(body id)" = "$(def_id 2)" ]
	[ "$(body displayName)" = "Screen saver timeout" ]
	[ "$(body classType)" = user ]
	[ "$(beval '"presentations" in d')" = false ]

	# An unknown value id is a 404.
	dm GET "/groupPolicyConfigurations/$conf/definitionValues/nope/definition"
	[ "$STATUS" = 404 ]
	[ "$(body error.code)" = ResourceNotFound ]
}

@test "POST definitionValues binds a definition and presentation by URL, returns 201 and the value is then listed" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	conf=$(fx tenants.0.groupPolicyConfigurations.1.id)
	d1=$(def_id 1)
	p1=$(pres_id 1 0)

	dm POST "/groupPolicyConfigurations/$conf/definitionValues" \
	    "$(def_value true "$d1" "$(pres_value Text '"https://home.example"' "$d1" "$p1")")"
	[ "$STATUS" = 201 ]
	new=$(body id)
	[[ "$new" =~ ^[0-9a-f-]{36}$ ]]
	[ "$(body enabled)" = true ]
	[ "$(body configurationType)" = policy ]
	[ -n "$(body createdDateTime)" ]
	[ "$(beval '"definition@odata.bind" in d or "definition" in d')" = false ]

	collect "$FG$GP/$conf/definitionValues?\$expand=definition" 'v["id"] + " " + v["definition"]["id"]'
	[ "$(wc -l <"$FG_DIR/items")" = 3 ]
	grep -qx "$new $d1" "$FG_DIR/items"
	dm GET "/groupPolicyConfigurations/$conf/definitionValues/$new/presentationValues?\$expand=presentation"
	[ "$(beval '[(v["value"], v["presentation"]["id"], v["presentation"]["label"]) for v in d["value"]]')" = \
	    "[[\"https://home.example\",\"$p1\",\"Home page URL\"]]" ]
	dm GET "/groupPolicyConfigurations/$conf/definitionValues/$new/definition"
	[ "$(body displayName)" = "Set the intranet home page" ]
}

@test "POST definitionValues: a foreign custom definition, a foreign presentation, a misfit value type, a repeated definition or an id give 400 naming the property" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	conf=$(fx tenants.0.groupPolicyConfigurations.1.id)
	fconf=$(fx tenants.1.groupPolicyConfigurations.0.id)
	custom=$(def_id 4)
	[ "$(fx tenants.0.groupPolicyDefinitions.4.displayName)" = "Contoso line-of-business setting" ]

	# contoso's ingested ADMX does not exist in fabrikam (cross-tenant).
	TOKEN=$(app_token 0 1)
	dm POST "/groupPolicyConfigurations/$fconf/definitionValues" \
	    "$(def_value true "$custom" "$(pres_value Text '"lob"' "$custom" "$(pres_id 4 0)")")"
	bad_prop definition@odata.bind
	[[ "$(inner)" == *"groupPolicyDefinitions('$custom'), which this tenant does not have"* ]]
	collect "$FG$GP/$fconf/definitionValues" 'v["id"]'
	[ "$(wc -l <"$FG_DIR/items")" = 4 ]

	TOKEN=$(app_token)
	d1=$(def_id 1)
	d2=$(def_id 2)
	# A presentation of definition 1 inside a value for definition 2.
	dm POST "/groupPolicyConfigurations/$conf/definitionValues" \
	    "$(def_value true "$d2" "$(pres_value Text '"x"' "$d1" "$(pres_id 1 0)")")"
	bad_prop 'presentationValues[0].presentation@odata.bind'
	[[ "$(inner)" == *"names a presentation that the definition '$d2' does not have"* ]]
	# ... or its id under definition 2's URL.
	dm POST "/groupPolicyConfigurations/$conf/definitionValues" \
	    "$(def_value true "$d2" "$(pres_value Decimal 5 "$d2" "$(pres_id 1 0)")")"
	bad_prop 'presentationValues[0].presentation@odata.bind'
	# Text for a DecimalTextBox, and a string in a Decimal value.
	dm POST "/groupPolicyConfigurations/$conf/definitionValues" \
	    "$(def_value true "$d2" "$(pres_value Text '"x"' "$d2" "$(pres_id 2 0)")")"
	bad_prop 'presentationValues[0].@odata.type'
	[[ "$(inner)" == *"must be #microsoft.graph.groupPolicyPresentationValueDecimal"* ]]
	dm POST "/groupPolicyConfigurations/$conf/definitionValues" \
	    "$(def_value true "$d2" "$(pres_value Decimal '"5"' "$d2" "$(pres_id 2 0)")")"
	bad_prop 'presentationValues[0].value'
	# Static text takes no value.
	dm POST "/groupPolicyConfigurations/$conf/definitionValues" \
	    "$(def_value true "$d2" "$(pres_value Text '"x"' "$d2" "$(pres_id 2 2)")")"
	bad_prop 'presentationValues[0].presentation@odata.bind'
	[[ "$(inner)" == *"takes no value"* ]]
	# The toast definition already has a value in this configuration.
	dm POST "/groupPolicyConfigurations/$conf/definitionValues" "$(def_value false "$(def_id 0)")"
	bad_prop definition@odata.bind
	[[ "$(inner)" == *"already has a value"* ]]
	# The server assigns ids.
	dm POST "/groupPolicyConfigurations/$conf/definitionValues" \
	    "{\"id\":\"$(def_id 2)\",\"enabled\":true,\"definition@odata.bind\":\"$(def_bind "$d2")\"}"
	bad_prop id
	# A bind that is no definition URL.
	dm POST "/groupPolicyConfigurations/$conf/definitionValues" \
	    '{"enabled":true,"definition@odata.bind":"https://graph.microsoft.com/beta/deviceManagement/nothing"}'
	bad_prop definition@odata.bind

	# Nothing was added.
	collect "$FG$GP/$conf/definitionValues?\$expand=definition" 'v["definition"]["id"]'
	[ "$(sort "$FG_DIR/items")" = "$(printf '%s\n' "$(def_id 0)" "$custom" | sort)" ]
}

@test "updateDefinitionValues applies deletedIds, updated and added together and answers 204" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	conf=$(fx tenants.0.groupPolicyConfigurations.0.id)
	d0=$(def_id 0)
	toast=$(dv_of "$conf" "$d0")
	home=$(dv_of "$conf" "$(def_id 1)")
	saver=$(dv_of "$conf" "$(def_id 2)")
	sites=$(dv_of "$conf" "$(def_id 3)")
	before=$(values_of "$conf")
	dm GET "/groupPolicyConfigurations/$conf/definitionValues/$saver/presentationValues?\$expand=presentation"
	seconds=$(beval '[v["id"] for v in d["value"] if v["presentation"]["label"] == "Seconds"][0]')

	# The toast value is deleted and added back disabled (deletes go
	# first), and the screen saver value changes.
	dm POST "/groupPolicyConfigurations/$conf/updateDefinitionValues" "{
	    \"deletedIds\":[\"$toast\"],
	    \"updated\":[{\"id\":\"$saver\",\"enabled\":false,\"presentationValues\":[
	        {\"id\":\"$seconds\",\"@odata.type\":\"#microsoft.graph.groupPolicyPresentationValueDecimal\",\"value\":900}]}],
	    \"added\":[$(def_value false "$d0")]}"
	[ "$STATUS" = 204 ]
	[ -z "$BODY" ]

	after=$(values_of "$conf")
	ids=$(printf '%s' "$after" | json_eval '" ".join(sorted(v["id"] for v in d))')
	[[ " $ids " != *" $toast "* ]]
	[ "$(printf '%s' "$after" | json_eval 'len(d)')" = 4 ]
	# The new toast value: a new id, disabled.
	[ "$(printf '%s' "$after" | json_eval "[(v[\"enabled\"], v[\"id\"] != \"$toast\") for v in d if v[\"definition\"][\"id\"] == \"$d0\"]")" = '[[false,true]]' ]
	# The screen saver value: disabled, 900 seconds, the check box kept.
	dm GET "/groupPolicyConfigurations/$conf/definitionValues/$saver"
	[ "$(body enabled)" = false ]
	dm GET "/groupPolicyConfigurations/$conf/definitionValues/$saver/presentationValues?\$expand=presentation"
	[ "$(beval '[(v["presentation"]["label"], v["value"]) for v in d["value"]]')" = '[["Seconds",900],["Password protect",true]]' ]
	[ "$(beval '[v["id"] for v in d["value"]][0]')" = "$seconds" ]
	# The other two are untouched.
	for dv in "$home" "$sites"; do
		[ "$(printf '%s' "$before" | json_eval "[v for v in d if v[\"id\"] == \"$dv\"]")" = \
		    "$(printf '%s' "$after" | json_eval "[v for v in d if v[\"id\"] == \"$dv\"]")" ]
	done
}

@test "updateDefinitionValues with one invalid part answers 400 and changes nothing; an unknown key is a 400" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	conf=$(fx tenants.0.groupPolicyConfigurations.0.id)
	toast=$(dv_of "$conf" "$(def_id 0)")
	saver=$(dv_of "$conf" "$(def_id 2)")
	before=$(values_of "$conf")
	[ "$(printf '%s' "$before" | json_eval 'len(d)')" = 4 ]
	dm GET "/groupPolicyConfigurations/$conf"
	modified=$(body lastModifiedDateTime)
	dm GET "/groupPolicyConfigurations/$conf/definitionValues/$saver/presentationValues"
	seconds=$(beval 'd["value"][0]["id"]')
	upd="{\"id\":\"$saver\",\"enabled\":false,\"presentationValues\":[{\"id\":\"$seconds\",\"@odata.type\":\"#microsoft.graph.groupPolicyPresentationValueDecimal\",\"value\":1}]}"
	unchanged() {
		[ "$(values_of "$conf")" = "$before" ] || return 1
		dm GET "/groupPolicyConfigurations/$conf"
		[ "$(body lastModifiedDateTime)" = "$modified" ]
	}

	# A deletedIds entry that does not exist, after a valid delete and
	# a valid update.
	dm POST "/groupPolicyConfigurations/$conf/updateDefinitionValues" \
	    "{\"deletedIds\":[\"$toast\",\"00000000-dead-beef-0000-000000000000\"],\"updated\":[$upd]}"
	bad_prop 'deletedIds[1]'
	unchanged

	# An added value with a bad bind, after a valid delete and update.
	dm POST "/groupPolicyConfigurations/$conf/updateDefinitionValues" \
	    "{\"deletedIds\":[\"$toast\"],\"updated\":[$upd],\"added\":[$(def_value true 00000000-0000-0000-0000-00000000abcd)]}"
	bad_prop 'added[0].definition@odata.bind'
	[[ "$(inner)" == *"this tenant does not have"* ]]
	unchanged

	# An update of a presentation value with the wrong type.
	dm POST "/groupPolicyConfigurations/$conf/updateDefinitionValues" \
	    "{\"deletedIds\":[\"$toast\"],\"updated\":[{\"id\":\"$saver\",\"presentationValues\":[{\"id\":\"$seconds\",\"@odata.type\":\"#microsoft.graph.groupPolicyPresentationValueText\",\"value\":\"1\"}]}]}"
	bad_prop 'updated[0].presentationValues[0].@odata.type'
	unchanged

	# An updated entry without an id.
	dm POST "/groupPolicyConfigurations/$conf/updateDefinitionValues" '{"updated":[{"enabled":false}]}'
	bad_prop 'updated[0]'
	unchanged

	# A key that is not a parameter of the action.
	dm POST "/groupPolicyConfigurations/$conf/updateDefinitionValues" \
	    "{\"deletedIds\":[\"$toast\"],\"removedIds\":[]}"
	bad_prop removedIds
	[[ "$(inner)" == *"not a parameter of updateDefinitionValues"* ]]
	unchanged
}

@test "a groupPolicyConfigurations shell is created with displayName; inline definitionValues or policyConfigurationIngestionType give 400; /assign answers 200" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	dm POST /groupPolicyConfigurations '{"displayName":"Restored templates","description":"d","roleScopeTagIds":["0","2"]}'
	[ "$STATUS" = 201 ]
	id=$(body id)
	[ -n "$id" ]
	[ "$(body displayName)" = "Restored templates" ]
	[ -n "$(body createdDateTime)" ]
	dm GET "/groupPolicyConfigurations/$id/definitionValues"
	[ "$STATUS" = 200 ]
	[ "$(beval 'd["value"]')" = '[]' ]

	dm POST /groupPolicyConfigurations \
	    "{\"displayName\":\"inline\",\"definitionValues\":[$(def_value true "$(def_id 0)")]}"
	bad_prop definitionValues
	dm POST /groupPolicyConfigurations '{"displayName":"ingested","policyConfigurationIngestionType":"custom"}'
	bad_prop policyConfigurationIngestionType
	dm POST /groupPolicyConfigurations '{"description":"no name"}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == *"'displayName' is required"* ]]
	# The shell is the only one added.
	collect "$FG$GP" 'v["displayName"]'
	[ "$PAGES" = 3 ]
	[ "$(cat "$FG_DIR/items")" = "$(printf '%s\n' "Win - Admin templates baseline" "Win - Custom ADMX" "Restored templates")" ]

	# /assign replaces the set and answers 200 with it.
	g=$(fx tenants.0.groups.7.id)
	dm POST "/groupPolicyConfigurations/$id/assign" "{\"assignments\":[$(group_target "$g")]}"
	[ "$STATUS" = 200 ]
	[ "$(beval '[a["target"]["groupId"] for a in d["value"]]')" = "[\"$g\"]" ]
	dm GET "/groupPolicyConfigurations/$id/assignments"
	[ "$(beval '[a["target"]["groupId"] for a in d["value"]]')" = "[\"$g\"]" ]
	dm POST "/groupPolicyConfigurations/$id/assign" '{"assignments":[]}'
	[ "$STATUS" = 200 ]
	[ "$(beval 'd["value"]')" = '[]' ]
	dm GET "/groupPolicyConfigurations/$id/assignments"
	[ "$(beval 'd["value"]')" = '[]' ]
}

@test "groupPolicyDefinitions are read-only ('No OData route exists') and list their presentations" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	d3=$(def_id 3)
	dm POST /groupPolicyDefinitions '{"displayName":"mine","classType":"user"}'
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = BadRequest ]
	[[ "$(inner)" == "No OData route exists"* ]]
	dm PATCH "/groupPolicyDefinitions/$d3" '{"displayName":"renamed"}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == "No OData route exists"* ]]
	dm DELETE "/groupPolicyDefinitions/$d3"
	[ "$STATUS" = 400 ]
	dm GET "/groupPolicyDefinitions/$d3"
	[ "$STATUS" = 200 ]
	[ "$(body displayName)" = "Allowed sites" ]
	[ "$(beval '"presentations" in d')" = false ]
	collect "$FG$DM/groupPolicyDefinitions" 'v["id"]'
	[ "$(wc -l <"$FG_DIR/items")" = 5 ]

	dm GET "/groupPolicyDefinitions/$d3/presentations"
	[ "$STATUS" = 200 ]
	[ "$(beval '[p["label"] for p in d["value"]]')" = '["Sites","Notes","Mode"]' ]
	[ "$(beval '[p["@odata.type"].rsplit(".", 1)[1] for p in d["value"]]')" = \
	    '["groupPolicyPresentationListBox","groupPolicyPresentationMultiTextBox","groupPolicyPresentationDropdownList"]' ]
	[ "$(beval 'd["value"][0]["id"]')" = "$(pres_id 3 0)" ]
	dm GET "/groupPolicyDefinitions/$d3/presentations/$(pres_id 3 2)"
	[ "$STATUS" = 200 ]
	[ "$(body label)" = Mode ]
}

# ---- deviceManagementScripts -------------------------------------------------------

@test "deviceManagementScripts: the list has scriptContent null, a GET the base64; non-base64 gives 400 Edm.Binary" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	collect "$FG$DM/deviceManagementScripts" 'repr(v["scriptContent"]) + " " + v["id"]'
	[ "$PAGES" = 2 ]
	[ "$(cut -d' ' -f1 "$FG_DIR/items" | sort -u)" = None ]
	id=$(fx tenants.0.deviceManagementScripts.0.id)
	dm GET "/deviceManagementScripts/$id"
	[ "$STATUS" = 200 ]
	[ "$(body scriptContent)" = "$(fx tenants.0.deviceManagementScripts.0.scriptContent)" ]
	[ "$(body scriptContent | base64 -d)" = 'Set-TimeZone -Id "W. Europe Standard Time"' ]

	dm POST /deviceManagementScripts '{"displayName":"raw","fileName":"raw.ps1","scriptContent":"Write-Host hi"}'
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = ModelValidationFailure ]
	[[ "$(inner)" == *"Cannot convert the literal 'Write-Host hi' to the expected type 'Edm.Binary'"* ]]
	dm POST /deviceManagementScripts '{"displayName":"raw","fileName":"raw.ps1","scriptContent":"V3JpdGUtSG9zdCBoaQ"}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == *Edm.Binary* ]]
	dm POST /deviceManagementScripts '{"displayName":"raw","scriptContent":"V3JpdGUtSG9zdCBoaQ=="}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == *"'fileName' is required"* ]]

	content=$(printf 'Write-Host hi' | base64)
	dm POST /deviceManagementScripts "{\"displayName\":\"hi\",\"fileName\":\"hi.ps1\",\"runAsAccount\":\"system\",\"scriptContent\":\"$content\"}"
	[ "$STATUS" = 201 ]
	new=$(body id)
	dm GET "/deviceManagementScripts/$new"
	[ "$(body scriptContent)" = "$content" ]
	collect "$FG$DM/deviceManagementScripts" 'repr(v["scriptContent"]) + " " + v["id"]'
	[ "$(wc -l <"$FG_DIR/items")" = 3 ]
	[ "$(cut -d' ' -f1 "$FG_DIR/items" | sort -u)" = None ]
	grep -q " $new\$" "$FG_DIR/items"
}

@test "deviceManagementScripts /assign takes deviceManagementScriptAssignments and answers 204 with no body" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	id=$(fx tenants.0.deviceManagementScripts.1.id)
	g=$(fx tenants.0.groups.9.id)
	dm GET "/deviceManagementScripts/$id/assignments"
	[ "$(beval 'd["value"]')" = '[]' ]

	dm POST "/deviceManagementScripts/$id/assign" "{\"deviceManagementScriptAssignments\":[$(group_target "$g")]}"
	[ "$STATUS" = 204 ]
	[ -z "$BODY" ]
	[ -z "$(hdr Content-Type)" ]
	dm GET "/deviceManagementScripts/$id/assignments"
	[ "$STATUS" = 200 ]
	[ "$(beval '[(a["target"]["@odata.type"], a["target"]["groupId"]) for a in d["value"]]')" = \
	    "[[\"#microsoft.graph.groupAssignmentTarget\",\"$g\"]]" ]
	[ "$(beval 'd["value"][0]["id"]')" = "${id}_$g" ]

	# The configurations' key is refused here, and changes nothing.
	g2=$(fx tenants.0.groups.10.id)
	dm POST "/deviceManagementScripts/$id/assign" "{\"assignments\":[$(group_target "$g2")]}"
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = ModelValidationFailure ]
	[[ "$(inner)" == *'{"deviceManagementScriptAssignments":[...]}'* ]]
	dm GET "/deviceManagementScripts/$id/assignments"
	[ "$(beval '[a["target"]["groupId"] for a in d["value"]]')" = "[\"$g\"]" ]
}

# ---- assignment filters -------------------------------------------------------------

@test "assignmentFilters: POST needs displayName, platform and rule; platform is fixed; PATCH of displayName gives 204" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	for missing in displayName platform rule; do
		b=$(python3 -c '
import json, sys
b = {"displayName": "Win BYOD", "platform": "windows10AndLater", "rule": "(device.deviceOwnership -eq \"Personal\")"}
del b[sys.argv[1]]
print(json.dumps(b))' "$missing")
		dm POST /assignmentFilters "$b"
		[ "$STATUS" = 400 ]
		[ "$(body error.code)" = ModelValidationFailure ]
		[[ "$(inner)" == "Property '$missing' is required"* ]]
	done
	dm POST /assignmentFilters '{"displayName":"Win BYOD","platform":"windows10AndLater","rule":"(device.deviceOwnership -eq \"Personal\")"}'
	[ "$STATUS" = 201 ]
	id=$(body id)
	[ "$(body platform)" = windows10AndLater ]

	dm PATCH "/assignmentFilters/$id" '{"platform":"iOS"}'
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = BadRequest ]
	[[ "$(inner)" == "The platform of an assignment filter cannot be changed once created."* ]]
	dm PATCH "/assignmentFilters/$id" '{"displayName":"Win personal"}'
	[ "$STATUS" = 204 ]
	[ -z "$BODY" ]
	# The same platform is no change.
	dm PATCH "/assignmentFilters/$id" '{"platform":"windows10AndLater","description":"byod"}'
	[ "$STATUS" = 204 ]
	dm GET "/assignmentFilters/$id"
	[ "$(body displayName)" = "Win personal" ]
	[ "$(body platform)" = windows10AndLater ]
	[ "$(body description)" = byod ]
	collect "$FG$DM/assignmentFilters" 'v["displayName"]'
	[ "$(cat "$FG_DIR/items")" = "$(printf '%s\n' "Win corporate" "iOS supervised" "Win personal")" ]
}

@test "an /assign naming a filter the tenant lacks gives 400; the zero GUID and an existing filter are accepted" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	id=$(fx tenants.0.deviceConfigurations.2.id)
	g=$(fx tenants.0.groups.5.id)
	own=$(fx tenants.0.assignmentFilters.1.id)
	foreign=$(fx tenants.1.assignmentFilters.0.id)

	dm POST "/deviceConfigurations/$id/assign" "{\"assignments\":[$(group_target "$g" "$foreign")]}"
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = ModelValidationFailure ]
	[[ "$(inner)" == "assignments[0] names a deviceAndAppManagementAssignmentFilterId that is not an assignment filter of the tenant"* ]]
	dm GET "/deviceConfigurations/$id/assignments"
	[ "$(beval 'd["value"]')" = '[]' ]

	dm POST "/deviceConfigurations/$id/assign" "{\"assignments\":[$(group_target "$g" "$NO_FILTER")]}"
	[ "$STATUS" = 200 ]
	[ "$(beval 'd["value"][0]["target"]["deviceAndAppManagementAssignmentFilterId"]')" = "$NO_FILTER" ]

	dm POST "/deviceConfigurations/$id/assign" "{\"assignments\":[$(group_target "$g" "$own")]}"
	[ "$STATUS" = 200 ]
	dm GET "/deviceConfigurations/$id/assignments"
	[ "$(beval '[(a["target"]["groupId"], a["target"]["deviceAndAppManagementAssignmentFilterId"], a["target"]["deviceAndAppManagementAssignmentFilterType"]) for a in d["value"]]')" = \
	    "[[\"$g\",\"$own\",\"include\"]]" ]
}

# ---- role scope tags ---------------------------------------------------------------

@test "roleScopeTags: built-in '0' Default is listed and filtered out by isBuiltIn eq false; POST gives the next small id; '0' is immutable" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	collect "$FG$DM/roleScopeTags" '"|".join([v["id"], v["displayName"], str(v["isBuiltIn"])])'
	[ "$(cat "$FG_DIR/items")" = "$(printf '%s\n' '0|Default|True' '1|Tier1 Support|False' '2|EU Devices|False')" ]
	graph GET "$DM/roleScopeTags" -G --data-urlencode '$filter=isBuiltIn eq false'
	[ "$STATUS" = 200 ]
	[ "$(beval '[v["id"] for v in d["value"]]')" = '["1","2"]' ]

	dm POST /roleScopeTags '{"displayName":"Regional IT","description":"EMEA"}'
	[ "$STATUS" = 201 ]
	[ "$(body id)" = 3 ]
	[ "$(beval 'd["id"]')" = 3 ]
	[ "$(beval 'type(d["id"]).__name__')" = str ]
	[ "$(body isBuiltIn)" = false ]
	dm POST /roleScopeTags '{"displayName":"Built","isBuiltIn":true}'
	bad_prop isBuiltIn
	dm GET /roleScopeTags/3
	[ "$(body displayName)" = "Regional IT" ]

	dm PATCH /roleScopeTags/0 '{"description":"mine now"}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == "The built-in scope tag 'Default' cannot be changed or deleted."* ]]
	dm DELETE /roleScopeTags/0
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == "The built-in scope tag 'Default' cannot be changed or deleted."* ]]
	dm GET /roleScopeTags/0
	[ "$(body displayName)" = Default ]
	[ "$(body description)" = "Built-in scope tag" ]
	# Other tags can change.
	dm PATCH /roleScopeTags/1 '{"description":"tier 1"}'
	[ "$STATUS" = 204 ]
	dm DELETE /roleScopeTags/2
	[ "$STATUS" = 204 ]
	dm GET /roleScopeTags/2
	[ "$STATUS" = 404 ]
}

@test "roleScopeTags need DeviceManagementRBAC (403 otherwise), and a roleScopeTagIds entry the tenant lacks gives 400" {
	fg_start "$(fixture_with "$UNTHROTTLED"'
f["tenants"][0]["apps"].append({"client_id": "aaaaaaaa-0000-4000-8000-00000000000d",
    "client_secret": "dmc-only", "roles": ["DeviceManagementConfiguration.ReadWrite.All"]})')"
	token_req aaaaaaaa-0000-4000-8000-00000000000d dmc-only
	[ "$STATUS" = 200 ]
	TOKEN=$(body access_token)
	dm GET /roleScopeTags
	[ "$STATUS" = 403 ]
	[ "$(body error.code)" = Forbidden ]
	[[ "$(inner)" == *"Application must have one of the following scopes: DeviceManagementRBAC.Read.All, DeviceManagementRBAC.ReadWrite.All - Operation ID"* ]]
	dm POST /roleScopeTags '{"displayName":"x"}'
	[ "$STATUS" = 403 ]
	[[ "$(inner)" == *"following scopes: DeviceManagementRBAC.ReadWrite.All - "* ]]
	# The same app manages configurations.
	dm GET /deviceConfigurations
	[ "$STATUS" = 200 ]
	# A read-only RBAC app reads tags but cannot write them.
	TOKEN=$(app_token 1)
	dm GET /roleScopeTags/1
	[ "$STATUS" = 200 ]
	dm PATCH /roleScopeTags/1 '{"description":"x"}'
	[ "$STATUS" = 403 ]
	[[ "$(inner)" == *"DeviceManagementRBAC.ReadWrite.All"* ]]

	TOKEN=$(app_token)
	T='"@odata.type":"#microsoft.graph.windows10CustomConfiguration","displayName":"tagged"'
	dm POST /deviceConfigurations "{$T,\"roleScopeTagIds\":[\"0\",\"2\",\"9\"]}"
	bad_prop 'roleScopeTagIds[2]'
	[[ "$(inner)" == *"names a scope tag that does not exist in this tenant"* ]]
	# fabrikam's tag "1" exists, but "2" does not.
	TOKEN=$(app_token 0 1)
	dm POST /deviceConfigurations "{$T,\"roleScopeTagIds\":[\"1\",\"2\"]}"
	bad_prop 'roleScopeTagIds[1]'
	id=$(fx tenants.1.deviceConfigurations.0.id)
	dm PATCH "/deviceConfigurations/$id" '{"roleScopeTagIds":["7"]}'
	bad_prop 'roleScopeTagIds[0]'
	dm GET "/deviceConfigurations/$id"
	[ "$(beval 'd["roleScopeTagIds"]')" = '["0"]' ]
	dm POST /deviceConfigurations "{$T,\"roleScopeTagIds\":[\"0\",\"1\"]}"
	[ "$STATUS" = 201 ]
	[ "$(beval 'd["roleScopeTagIds"]')" = '["0","1"]' ]
}

# ---- encrypted OMA values -----------------------------------------------------------

@test "an encrypted OMA value reads masked with a reference; getOmaSettingPlainTextValue needs ReadWrite; unknown references give 404" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	id=$(fx tenants.0.deviceConfigurations.0.id)
	dm GET "/deviceConfigurations/$id"
	[ "$STATUS" = 200 ]
	[ "$(beval '[(o["displayName"], o["value"], o.get("isEncrypted")) for o in d["omaSettings"]]')" = \
	    '[["AllowToasts",0,null],["WiFiKey","********",true]]' ]
	ref=$(beval 'd["omaSettings"][1]["secretReferenceValueId"]')
	[[ "$ref" =~ ^[0-9a-f-]{36}$ ]]
	[ "$(beval '"secretReferenceValueId" in d["omaSettings"][0]')" = false ]

	fn="getOmaSettingPlainTextValue(secretReferenceValueId='$ref')"
	dm GET "/deviceConfigurations/$id/$fn"
	[ "$STATUS" = 200 ]
	[ "$(body value)" = contoso-oma-wifi-key ]
	[ "$(beval 'sorted(d)')" = '["@odata.context","value"]' ]
	graph GET "/v1.0/deviceManagement/deviceConfigurations/$id/$fn"
	[ "$(body value)" = contoso-oma-wifi-key ]

	# Reading a secret needs ReadWrite, not Read (A1).
	TOKEN=$(app_token 1)
	dm GET "/deviceConfigurations/$id"
	[ "$STATUS" = 200 ]
	dm GET "/deviceConfigurations/$id/$fn"
	[ "$STATUS" = 403 ]
	[ "$(body error.code)" = Forbidden ]
	[[ "$(inner)" == *"following scopes: DeviceManagementConfiguration.ReadWrite.All - "* ]]
	[[ "$BODY" != *contoso-oma-wifi-key* ]]

	TOKEN=$(app_token)
	dm GET "/deviceConfigurations/$id/getOmaSettingPlainTextValue(secretReferenceValueId='00000000-0000-4000-8000-000000000000')"
	[ "$STATUS" = 404 ]
	[ "$(body error.code)" = ResourceNotFound ]
	# The reference belongs to that profile only.
	other=$(fx tenants.0.deviceConfigurations.4.id)
	dm GET "/deviceConfigurations/$other/$fn"
	[ "$STATUS" = 404 ]
	# fabrikam's own value.
	TOKEN=$(app_token 0 1)
	fid=$(fx tenants.1.deviceConfigurations.0.id)
	dm GET "/deviceConfigurations/$fid"
	fref=$(beval 'd["omaSettings"][1]["secretReferenceValueId"]')
	dm GET "/deviceConfigurations/$fid/getOmaSettingPlainTextValue(secretReferenceValueId='$fref')"
	[ "$(body value)" = fabrikam-oma-wifi-key ]
	dm GET "/deviceConfigurations/$id/$fn"
	[ "$STATUS" = 404 ]
}

@test "a GET body posted back fails on secretReferenceValueId; a plain encrypted value is stored masked, decrypts, and never reaches the request log" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	id=$(fx tenants.0.deviceConfigurations.0.id)
	dm GET "/deviceConfigurations/$id"
	old_ref=$(beval 'd["omaSettings"][1]["secretReferenceValueId"]')
	back=$(beval '{k: v for k, v in d.items() if k not in ("id", "version", "createdDateTime", "lastModifiedDateTime", "@odata.context", "supportsScopeTags")}')
	dm POST /deviceConfigurations "$back"
	bad_prop 'omaSettings[1].secretReferenceValueId'
	[[ "$(inner)" == *"invalid for create or update"* ]]

	plain='new-plain-wifi-key-4711'
	dm POST /deviceConfigurations "{\"@odata.type\":\"#microsoft.graph.windows10CustomConfiguration\",\"displayName\":\"Wi-Fi\",\"omaSettings\":[{\"@odata.type\":\"#microsoft.graph.omaSettingString\",\"displayName\":\"Key\",\"omaUri\":\"./Vendor/MSFT/WiFi/Profile/Corp/Key\",\"value\":\"$plain\",\"isEncrypted\":true}]}"
	[ "$STATUS" = 201 ]
	new=$(body id)
	[ "$(beval 'd["omaSettings"][0]["value"]')" = '********' ]
	ref=$(beval 'd["omaSettings"][0]["secretReferenceValueId"]')
	[[ "$ref" =~ ^[0-9a-f-]{36}$ ]]
	[ "$ref" != "$old_ref" ]
	[[ "$BODY" != *"$plain"* ]]
	dm GET "/deviceConfigurations/$new"
	[ "$(beval '[(o["value"], o["isEncrypted"], o["secretReferenceValueId"]) for o in d["omaSettings"]]')" = \
	    "[[\"********\",true,\"$ref\"]]" ]
	dm GET "/deviceConfigurations/$new/getOmaSettingPlainTextValue(secretReferenceValueId='$ref')"
	[ "$STATUS" = 200 ]
	[ "$(body value)" = "$plain" ]

	# A PATCH with a new plain value gets a new reference, and so does
	# a $batch item.
	plain2='patched-wifi-key-0815'
	dm PATCH "/deviceConfigurations/$new" "{\"omaSettings\":[{\"@odata.type\":\"#microsoft.graph.omaSettingString\",\"displayName\":\"Key\",\"omaUri\":\"./x\",\"value\":\"$plain2\",\"isEncrypted\":true}]}"
	[ "$STATUS" = 204 ]
	dm GET "/deviceConfigurations/$new"
	ref2=$(beval 'd["omaSettings"][0]["secretReferenceValueId"]')
	[ "$ref2" != "$ref" ]
	dm GET "/deviceConfigurations/$new/getOmaSettingPlainTextValue(secretReferenceValueId='$ref2')"
	[ "$(body value)" = "$plain2" ]
	plain3='batched-wifi-key-1234'
	graph POST '/beta/$batch' -H 'Content-Type: application/json' -d "{\"requests\":[{\"id\":\"1\",\"method\":\"POST\",\"url\":\"/deviceManagement/deviceConfigurations\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":{\"@odata.type\":\"#microsoft.graph.windows10CustomConfiguration\",\"displayName\":\"b\",\"omaSettings\":[{\"@odata.type\":\"#microsoft.graph.omaSettingString\",\"displayName\":\"K\",\"omaUri\":\"./y\",\"value\":\"$plain3\",\"isEncrypted\":true}]}}]}"
	[ "$STATUS" = 200 ]
	[ "$(beval 'd["responses"][0]["status"]')" = 201 ]
	[ "$(beval 'd["responses"][0]["body"]["omaSettings"][0]["value"]')" = '********' ]

	req GET "$FG/_fake/requests"
	[ "$STATUS" = 200 ]
	for s in "$plain" "$plain2" "$plain3" contoso-oma-wifi-key; do
		if [[ "$BODY" == *"$s"* ]]; then
			echo "the request log contains the secret $s" >&2
			return 1
		fi
	done
	# The five writes with an encrypted value (the refused one, POST,
	# PATCH, the $batch and its item) are logged with it redacted.
	[ "$(beval '[e["method"] for e in d["value"] if "isEncrypted" in e["body"]]')" = '["POST","POST","PATCH","POST","POST"]' ]
	[ "$(beval 'all("\"value\":\"<redacted>\"" in e["body"] for e in d["value"] if "isEncrypted" in e["body"])')" = true ]
}

# ---- compliance: scheduleActionsForRules -------------------------------------------

@test "scheduleActionsForRules with one block action gives 204, bumps version and shows server-made ids under \$expand" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	id=$(fx tenants.0.deviceCompliancePolicies.0.id)
	expand='$expand=scheduledActionsForRule($expand=scheduledActionConfigurations)'
	dm GET "/deviceCompliancePolicies/$id"
	[ "$(body version)" = 2 ]
	[ "$(beval '"scheduledActionsForRule" in d')" = false ]

	dm POST "/deviceCompliancePolicies/$id/scheduleActionsForRules" '{"deviceComplianceScheduledActionForRules":[
	    {"ruleName":"PasswordRequired","scheduledActionConfigurations":[
	        {"actionType":"block","gracePeriodHours":12,"notificationTemplateId":""},
	        {"actionType":"notification","gracePeriodHours":24,"notificationTemplateId":""}]}]}'
	[ "$STATUS" = 204 ]
	[ -z "$BODY" ]
	dm GET "/deviceCompliancePolicies/$id?$expand"
	[ "$STATUS" = 200 ]
	[ "$(body version)" = 3 ]
	[ "$(beval '[(r["ruleName"], [(a["actionType"], a["gracePeriodHours"]) for a in r["scheduledActionConfigurations"]]) for r in d["scheduledActionsForRule"]]')" = \
	    '[["PasswordRequired",[["block",12],["notification",24]]]]' ]
	ids=$(beval '" ".join([r["id"] for r in d["scheduledActionsForRule"]] + [a["id"] for r in d["scheduledActionsForRule"] for a in r["scheduledActionConfigurations"]])')
	[ "$(printf '%s\n' $ids | grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')" = 3 ]
	[ "$(printf '%s\n' $ids | sort -u | wc -l)" = 3 ]
	# A plain GET still leaves them out.
	dm GET "/deviceCompliancePolicies/$id"
	[ "$(beval '"scheduledActionsForRule" in d')" = false ]
	[ "$(body version)" = 3 ]
}

@test "scheduleActionsForRules without exactly one block action, or with ids, gives 400; PATCH cannot carry scheduledActionsForRule" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	id=$(fx tenants.0.deviceCompliancePolicies.0.id)
	expand='$expand=scheduledActionsForRule($expand=scheduledActionConfigurations)'
	dm GET "/deviceCompliancePolicies/$id?$expand"
	before=$BODY
	sched() {
		dm POST "/deviceCompliancePolicies/$id/scheduleActionsForRules" \
		    "{\"deviceComplianceScheduledActionForRules\":[$1]}"
	}

	sched '{"ruleName":"PasswordRequired","scheduledActionConfigurations":[{"actionType":"block"},{"actionType":"block","gracePeriodHours":1}]}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == "Compliance policy must have one and only one block scheduled action"* ]]
	sched '{"ruleName":"PasswordRequired","scheduledActionConfigurations":[{"actionType":"block"}]},{"ruleName":"Other","scheduledActionConfigurations":[{"actionType":"block"}]}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == "Compliance policy must have one and only one block scheduled action"* ]]
	sched '{"ruleName":"PasswordRequired","scheduledActionConfigurations":[{"actionType":"notification"}]}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == "Compliance policy must have one and only one block scheduled action"* ]]
	sched ''
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == "Compliance policy must have one and only one block scheduled action"* ]]

	sched '{"id":"r1","ruleName":"PasswordRequired","scheduledActionConfigurations":[{"actionType":"block"}]}'
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = ModelValidationFailure ]
	[[ "$(inner)" == "Invalid property 'deviceComplianceScheduledActionForRules[0].id': it is assigned by the server."* ]]
	sched '{"ruleName":"PasswordRequired","scheduledActionConfigurations":[{"id":"a1","actionType":"block"}]}'
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = ModelValidationFailure ]
	[[ "$(inner)" == "Invalid property 'deviceComplianceScheduledActionForRules[0].scheduledActionConfigurations[0].id': it is assigned by the server."* ]]
	sched '{"scheduledActionConfigurations":[{"actionType":"block"}]}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == "Invalid property 'deviceComplianceScheduledActionForRules[0]': it must be an object with a string ruleName."* ]]
	sched '{"ruleName":"PasswordRequired","scheduledActionConfigurations":[{"actionType":"block"},{"actionType":"explode"}]}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == "Invalid property 'deviceComplianceScheduledActionForRules[0].scheduledActionConfigurations[1]': it needs an actionType"* ]]
	dm POST "/deviceCompliancePolicies/$id/scheduleActionsForRules" '{"scheduledActionsForRule":[]}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == *deviceComplianceScheduledActionForRules* ]]

	dm PATCH "/deviceCompliancePolicies/$id" \
	    '{"scheduledActionsForRule":[{"ruleName":"PasswordRequired","scheduledActionConfigurations":[{"actionType":"block"}]}]}'
	bad_prop scheduledActionsForRule
	[[ "$(inner)" == *"scheduleActionsForRules"* ]]

	# Nothing changed, the version included.
	dm GET "/deviceCompliancePolicies/$id?$expand"
	[ "$BODY" = "$before" ]
	[ "$(body version)" = 2 ]
}

# ---- throttling per family ---------------------------------------------------------

@test "write throttling is per tenant, principal and family: roleScopeTags 429 leaves deviceConfigurations writable" {
	fg_start "$(fixture_with 'f["throttle"] = {"writes_per_window": 2, "window_s": 60}')"
	TOKEN=$(app_token)
	for n in 1 2; do
		dm POST /roleScopeTags "{\"displayName\":\"tag $n\"}"
		[ "$STATUS" = 201 ]
	done
	dm POST /roleScopeTags '{"displayName":"tag 3"}'
	[ "$STATUS" = 429 ]
	[ "$(body error.code)" = TooManyRequests ]
	wait_s=$(hdr Retry-After)
	# A token every 30 s, rounded up.
	[ "$wait_s" -ge 25 ]
	[ "$wait_s" -le 31 ]
	dm PATCH /roleScopeTags/1 '{"description":"x"}'
	[ "$STATUS" = 429 ]
	# Reads are not throttled, and the refused write created nothing.
	collect "$FG$DM/roleScopeTags" 'v["displayName"]'
	[ "$(tail -n 2 "$FG_DIR/items")" = "$(printf '%s\n' 'tag 1' 'tag 2')" ]
	[ "$(wc -l <"$FG_DIR/items")" = 5 ]

	# Another family of the same app and tenant has its own bucket.
	id=$(fx tenants.0.deviceConfigurations.2.id)
	for n in 1 2; do
		dm PATCH "/deviceConfigurations/$id" "{\"description\":\"d$n\"}"
		[ "$STATUS" = 204 ]
	done
	dm PATCH "/deviceConfigurations/$id" '{"description":"d3"}'
	[ "$STATUS" = 429 ]
	dm GET "/deviceConfigurations/$id"
	[ "$(body description)" = d2 ]

	# So has another principal of the tenant (a delegated admin) ...
	req POST "$FG/contoso/oauth2/v2.0/token" -d grant_type=refresh_token \
	    -d "client_id=$(fx tenants.0.apps.0.client_id)" \
	    -d "refresh_token=$(fx tenants.0.users.0.refresh_token)"
	[ "$STATUS" = 200 ]
	TOKEN=$(body access_token)
	dm POST /roleScopeTags '{"displayName":"by admin"}'
	[ "$STATUS" = 201 ]
	# ... and the same family in another tenant.
	TOKEN=$(app_token 0 1)
	dm POST /roleScopeTags '{"displayName":"fabrikam tag"}'
	[ "$STATUS" = 201 ]
	[ "$(body id)" = 2 ]
}

# ---- fixture checks ----------------------------------------------------------------

# fg_refuses FIXTURE: runs fakegraph on FIXTURE (at most 10 s); it must
# exit 1 without starting, with one line on stderr, left in $stderr.
fg_refuses() {
	run --separate-stderr timeout 10 "$OPRUN_BUILD/fakegraph" --fixture "$1" \
	    --port 0 --port-file "$FG_DIR/port"
	if [ "$status" -ne 1 ] || [ -n "$output" ] || [ -e "$FG_DIR/port" ] ||
	    [ "$(printf '%s\n' "$stderr" | wc -l)" -ne 1 ]; then
		echo "fakegraph: status $status, stdout '$output', stderr:" >&2
		printf '%s\n' "$stderr" >&2
		return 1
	fi
}

@test "a fixture policy naming a scope tag its tenant lacks makes fakegraph exit 1 with one line naming tenant, collection and index" {
	f=$(fixture_with 'f["tenants"][1]["deviceConfigurations"][1]["roleScopeTagIds"] = ["0", "1", "2"]')
	fg_refuses "$f"
	[ "$stderr" = "fakegraph: $f: tenant fabrikam: deviceConfigurations[1]: roleScopeTagIds[2] names a scope tag the tenant does not have" ]
	f=$(fixture_with 'f["tenants"][0]["assignmentFilters"][1]["roleScopeTags"] = ["9"]')
	fg_refuses "$f"
	[[ "$stderr" == *"tenant contoso: assignmentFilters[1]: roleScopeTags[0] names a scope tag"* ]]
}

@test "a fixture groupPolicyConfiguration binding a definition its tenant lacks makes fakegraph exit 1 with one line naming tenant, collection and index" {
	# contoso's custom ADMX configuration copied into fabrikam.
	f=$(fixture_with 'f["tenants"][1]["groupPolicyConfigurations"].append(f["tenants"][0]["groupPolicyConfigurations"][1])')
	fg_refuses "$f"
	custom=$(def_id 4)
	[ "$stderr" = "fakegraph: $f: tenant fabrikam: groupPolicyConfigurations[1]: definitionValues[0].definition@odata.bind names groupPolicyDefinitions('$custom'), which this tenant does not have" ]
	# A presentation value of the wrong type is refused the same way.
	f=$(fixture_with 'f["tenants"][0]["groupPolicyConfigurations"][0]["definitionValues"][2]["presentationValues"][0]["value"] = "600"')
	fg_refuses "$f"
	[[ "$stderr" == *"tenant contoso: groupPolicyConfigurations[0]: definitionValues[2].presentationValues[0].value is missing or of the wrong JSON type"* ]]
	# The shipped fixture itself starts.
	fg_start
}

# ---- hostile and sloppy writes -------------------------------------------------------

@test "duplicate JSON members, non-array scope tag lists, unknown or read-only definition value members and badly typed list values give 400" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	conf=$(fx tenants.0.groupPolicyConfigurations.0.id)
	dc=$(fx tenants.0.deviceConfigurations.0.id)
	dm GET "/groupPolicyConfigurations/$conf/definitionValues?\$top=10&\$expand=presentationValues"
	before=$BODY

	# A second member of the same name would slip past the checks.
	dm POST "/groupPolicyConfigurations/$conf/updateDefinitionValues" \
	    "{\"added\":[{\"enabled\":true,\"definition@odata.bind\":\"$(def_bind "$(def_id 1)")\",\"presentationValues\":[],\"presentationValues\":[7]}]}"
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = BadRequest ]
	[[ "$(body error.message)" == "The property 'presentationValues' appears more than once"* ]]

	dm PATCH "/deviceConfigurations/$dc" '{"roleScopeTagIds":"1"}'
	bad_prop roleScopeTagIds

	dv=$(dv_of "$conf" "$(def_id 2)")
	dm PATCH "/groupPolicyConfigurations/$conf/definitionValues/$dv" '{"createdDateTime":"1999-01-01T00:00:00Z"}'
	bad_prop createdDateTime
	dm PATCH "/groupPolicyConfigurations/$conf/definitionValues/$dv" '{"enabled":true,"colour":"red"}'
	bad_prop colour
	dm PATCH "/groupPolicyConfigurations/$conf/definitionValues/$dv" '{"configurationType":"garbage"}'
	bad_prop configurationType
	dm POST "/groupPolicyConfigurations/$conf/updateDefinitionValues" \
	    "{\"updated\":[{\"id\":\"$dv\",\"lastModifiedDateTime\":\"1999-01-01T00:00:00Z\"}]}"
	bad_prop 'updated[0].lastModifiedDateTime'

	# ListBox takes {name, value} strings, MultiTextBox strings.
	list=$(dv_of "$conf" "$(def_id 3)")
	dm POST "/groupPolicyConfigurations/$conf/updateDefinitionValues" \
	    "{\"deletedIds\":[\"$list\"],\"added\":[$(def_value true "$(def_id 3)" "$(pres_value List '[1,"x"]' "$(def_id 3)" "$(pres_id 3 0)")")]}"
	bad_prop 'added[0].presentationValues[0].values'
	dm POST "/groupPolicyConfigurations/$conf/updateDefinitionValues" \
	    "{\"deletedIds\":[\"$list\"],\"added\":[$(def_value true "$(def_id 3)" "$(pres_value MultiText '[1]' "$(def_id 3)" "$(pres_id 3 1)")")]}"
	bad_prop 'added[0].presentationValues[0].values'
	# A presentation value changed by id cannot be moved to another
	# presentation.
	pv=$(dm GET "/groupPolicyConfigurations/$conf/definitionValues/$dv/presentationValues" >/dev/null; body value.0.id)
	dm POST "/groupPolicyConfigurations/$conf/updateDefinitionValues" \
	    "{\"updated\":[{\"id\":\"$dv\",\"presentationValues\":[{\"id\":\"$pv\",\"@odata.type\":\"#microsoft.graph.groupPolicyPresentationValueDecimal\",\"value\":5,\"presentation@odata.bind\":\"$(pres_bind "$(def_id 2)" "$(pres_id 2 1)")\"}]}]}"
	bad_prop 'updated[0].presentationValues[0].presentation@odata.bind'

	dm GET "/groupPolicyConfigurations/$conf/definitionValues?\$top=10&\$expand=presentationValues"
	[ "$BODY" = "$before" ]
}

@test "the path is checked before the permission, untyped families take their own @odata.type, and navigation lists refuse \$filter" {
	fg_start
	TOKEN=$(app_token 1)
	# The reader app may not write, but a path no route has is a 400 first.
	dm POST /deviceConfigurations/x/assignments/y/z '{}'
	[ "$STATUS" = 400 ]
	[[ "$(body error.message)" == "Resource not found for the segment 'z'."* ]]
	dm POST /deviceConfigurations/x/nothing '{}'
	[ "$STATUS" = 400 ]
	dm POST /deviceConfigurations/x/assign '{}'
	[ "$STATUS" = 403 ]

	TOKEN=$(app_token)
	dm PATCH /roleScopeTags/1 '{"@odata.type":"#microsoft.graph.roleScopeTag","description":"typed"}'
	[ "$STATUS" = 204 ]
	dm GET /roleScopeTags/1
	[ "$(body description)" = typed ]

	dc=$(fx tenants.0.deviceConfigurations.0.id)
	dm GET "/deviceConfigurations/$dc/assignments?\$filter=id%20eq%20'x'"
	[ "$STATUS" = 400 ]
	[[ "$(body error.message)" == *'$filter is not supported'* ]]
}

@test "encrypted values stay out of the request log whatever the Content-Type, and inside \$batch items" {
	fg_start "$(fixture_with "$UNTHROTTLED")"
	TOKEN=$(app_token)
	doc='{"@odata.type":"#microsoft.graph.windows10CustomConfiguration","displayName":"x","omaSettings":[{"@odata.type":"#microsoft.graph.omaSettingString","displayName":"k","omaUri":"./a","value":"PLAIN-ONE","isEncrypted":true}]}'
	graph POST "$DM/deviceConfigurations" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$doc"
	[ "$STATUS" = 201 ]
	item=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["omaSettings"][0]["value"]="PLAIN-TWO"; print(json.dumps(json.dumps(d)))' "$doc")
	graph POST /beta/\$batch -H 'Content-Type: application/json' -d \
	    "{\"requests\":[{\"id\":\"1\",\"method\":\"POST\",\"url\":\"/deviceManagement/deviceConfigurations\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":$item}]}"
	[ "$STATUS" = 200 ]
	[ "$(body responses.0.status)" = 201 ]
	log=$(curl -sf "$FG/_fake/requests")
	[[ "$log" != *PLAIN-ONE* ]]
	[[ "$log" != *PLAIN-TWO* ]]
	[ "$(printf '%s' "$log" | grep -o 'redacted' | wc -l)" -ge 3 ]
}
