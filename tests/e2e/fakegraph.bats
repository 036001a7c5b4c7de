#!/usr/bin/env bats
# The fake Graph server (tests/fakegraph): token endpoint, auth, paging,
# search, strict writes, throttling, faults, $batch and the control API,
# over real HTTP on 127.0.0.1.  Every test starts its own server on an
# ephemeral port in its own temp dir; teardown stops it and fails the
# test if it did not exit 0 or wrote anything to stderr (a sanitizer
# report, for the sanitized build).  The helpers are in
# fakegraph_helpers.bash; the Intune families added later (administrative
# templates, scripts, filters, scope tags, ...) are in
# fakegraph_intune.bats.
#
# Needs $OPRUN_BUILD/fakegraph (make build/fakegraph); builds nothing.

bats_require_minimum_version 1.5.0
load helpers
load fakegraph_helpers

SEARCH_MSG="Request with \$search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"

# ---- token endpoint -------------------------------------------------------

@test "client credentials return a Bearer token whose claims carry tid, exp, idtyp app and roles" {
	fg_start
	token_req "$(fx tenants.0.apps.0.client_id)" "$(fx tenants.0.apps.0.client_secret)"
	[ "$STATUS" = 200 ]
	[ "$(body token_type)" = Bearer ]
	[ "$(body expires_in)" = 3599 ]
	[ "$(body ext_expires_in)" = 3599 ]
	c=$(claims "$(body access_token)")
	[ "$(printf '%s' "$c" | json_get tid)" = 11111111-1111-1111-1111-111111111111 ]
	[ "$(printf '%s' "$c" | json_get idtyp)" = app ]
	[ "$(printf '%s' "$c" | json_get appid)" = "$(fx tenants.0.apps.0.client_id)" ]
	printf '%s' "$c" | json_eval 'd["roles"]' | grep -qF DeviceManagementConfiguration.ReadWrite.All
	now=$(date +%s)
	exp=$(printf '%s' "$c" | json_get exp)
	[ "$exp" -gt $((now + 3500)) ] && [ "$exp" -le $((now + 3601)) ]
	# The tenant may be named by id, name or domain.
	token_req "$(fx tenants.0.apps.0.client_id)" "$(fx tenants.0.apps.0.client_secret)" \
	    "$SCOPE" contoso.onmicrosoft.com
	[ "$STATUS" = 200 ]
}

@test "a wrong client secret gives 401 invalid_client AADSTS7000215 with trace, correlation id and timestamp" {
	fg_start
	req POST "$FG/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token" \
	    -H "client-request-id: corr-1" \
	    -d grant_type=client_credentials -d "client_id=$(fx tenants.0.apps.0.client_id)" \
	    -d client_secret=wrong --data-urlencode "scope=$SCOPE"
	[ "$STATUS" = 401 ]
	[ "$(body error)" = invalid_client ]
	[ "$(body error_codes)" = "[7000215]" ]
	desc=$(body error_description)
	[[ "$desc" == "AADSTS7000215: Invalid client secret provided."* ]]
	[[ "$desc" == *"Trace ID: $(body trace_id) Correlation ID: corr-1 Timestamp: $(body timestamp)" ]]
	[ "$(body correlation_id)" = corr-1 ]
	[ "$(hdr client-request-id)" = corr-1 ]
	[ "$(hdr request-id)" = "$(body trace_id)" ]
}

@test "an unknown client gives 400 AADSTS700016 and a scope without /.default gives 400 invalid_scope AADSTS1002012" {
	fg_start
	token_req 00000000-dead-beef-0000-000000000000 x
	[ "$STATUS" = 400 ]
	[ "$(body error)" = invalid_client ]
	[ "$(body error_codes.0)" = 700016 ]
	[[ "$(body error_description)" == AADSTS700016:* ]]

	token_req "$(fx tenants.0.apps.0.client_id)" "$(fx tenants.0.apps.0.client_secret)" \
	    https://graph.microsoft.com/User.Read
	[ "$STATUS" = 400 ]
	[ "$(body error)" = invalid_scope ]
	[ "$(body error_codes.0)" = 1002012 ]

	# A client of contoso is unknown in fabrikam.
	token_req "$(fx tenants.0.apps.0.client_id)" "$(fx tenants.0.apps.0.client_secret)" \
	    "$SCOPE" fabrikam
	[ "$STATUS" = 400 ]
	[ "$(body error_codes.0)" = 700016 ]
}

@test "a refresh token returns a delegated token and a new refresh token, and the old one becomes stale" {
	fg_start
	rt=$(fx tenants.0.users.0.refresh_token)
	req POST "$FG/contoso/oauth2/v2.0/token" -d grant_type=refresh_token \
	    -d "client_id=$(fx tenants.0.apps.0.client_id)" -d "refresh_token=$rt"
	[ "$STATUS" = 200 ]
	[[ "$(body scope)" == *GroupMember.Read.All* ]]
	new=$(body refresh_token)
	[ -n "$new" ] && [ "$new" != "$rt" ]
	c=$(claims "$(body access_token)")
	[ "$(printf '%s' "$c" | json_get idtyp)" = user ]
	[ "$(printf '%s' "$c" | json_get upn)" = "$(fx tenants.0.users.0.upn)" ]
	[[ "$(printf '%s' "$c" | json_get scp)" == *GroupMember.Read.All* ]]
	printf '%s' "$c" | json_eval '"roles" not in d' | grep -qx true

	# The delegated token works on /groups.
	TOKEN=$(body access_token)
	graph GET '/v1.0/groups?$top=1'
	[ "$STATUS" = 200 ]

	req POST "$FG/contoso/oauth2/v2.0/token" -d grant_type=refresh_token \
	    -d "client_id=$(fx tenants.0.apps.0.client_id)" -d "refresh_token=$rt"
	[ "$STATUS" = 400 ]
	[ "$(body error)" = invalid_grant ]
	[ "$(body error_codes.0)" = 70000 ]
}

# ---- auth on Graph routes ---------------------------------------------------

@test "Graph routes without a token, or with an unknown one, give 401 InvalidAuthenticationToken and WWW-Authenticate" {
	fg_start
	req GET "$FG/v1.0/deviceManagement/deviceConfigurations"
	[ "$STATUS" = 401 ]
	[ "$(body error.code)" = InvalidAuthenticationToken ]
	[ "$(body error.message)" = "Access token is empty." ]
	[[ "$(hdr WWW-Authenticate)" == 'Bearer realm=""'* ]]
	[ "$(body error.innerError.request-id)" = "$(hdr request-id)" ]
	[ "$(hdr Content-Type)" = "application/json;odata.metadata=minimal" ]

	TOKEN=not.a.token
	graph GET /v1.0/groups
	[ "$STATUS" = 401 ]
	[ "$(body error.code)" = InvalidAuthenticationToken ]
	[ "$(body error.message)" = "Invalid token" ]
	[[ "$(hdr WWW-Authenticate)" == 'Bearer realm=""'* ]]
}

@test "an expired token gives 401 'Access token has expired or is not yet valid.'" {
	fg_start "$(fixture_with 'f["token_lifetime_s"] = 1')"
	token_req "$(fx tenants.0.apps.0.client_id)" "$(fx tenants.0.apps.0.client_secret)"
	[ "$STATUS" = 200 ]
	[ "$(body expires_in)" = 1 ]
	TOKEN=$(body access_token)
	sleep 2
	graph GET /v1.0/deviceManagement/deviceConfigurations
	[ "$STATUS" = 401 ]
	[ "$(body error.code)" = InvalidAuthenticationToken ]
	[ "$(body error.message)" = "Access token has expired or is not yet valid." ]
	[[ "$(hdr WWW-Authenticate)" == 'Bearer realm=""'* ]]
}

@test "an app without DeviceManagement roles gets 403 Forbidden with the Intune nested message, and Authorization_RequestDenied on groups" {
	fg_start
	TOKEN=$(app_token 2)
	graph GET /beta/deviceManagement/deviceConfigurations
	[ "$STATUS" = 403 ]
	[ "$(body error.code)" = Forbidden ]
	inner=$(body error.message)
	[ "$(printf '%s' "$inner" | json_get _version)" = 3 ]
	msg=$(printf '%s' "$inner" | json_get Message)
	[[ "$msg" == "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementConfiguration.Read.All, DeviceManagementConfiguration.ReadWrite.All - Operation ID"* ]]

	graph GET /v1.0/groups
	[ "$STATUS" = 403 ]
	[ "$(body error.code)" = Authorization_RequestDenied ]
	[ "$(body error.message)" = "Insufficient privileges to complete the operation." ]

	# A read-only app can read but not write.
	TOKEN=$(app_token 1)
	graph GET /beta/deviceManagement/deviceConfigurations
	[ "$STATUS" = 200 ]
	graph DELETE "/beta/deviceManagement/deviceConfigurations/$(fx tenants.0.deviceConfigurations.0.id)"
	[ "$STATUS" = 403 ]
	[[ "$(body error.message | json_get Message)" == *"following scopes: DeviceManagementConfiguration.ReadWrite.All - "* ]]
}

# ---- paging -----------------------------------------------------------------

@test "deviceConfigurations at page size 2: following nextLink verbatim collects every item once" {
	fg_start
	TOKEN=$(app_token)
	follow "$FG/beta/deviceManagement/deviceConfigurations"
	[ "$PAGES" = 3 ]
	ids=$(cat "$FG_DIR/ids")
	want=$(json_eval '"\n".join(p["id"] for p in d["tenants"][0]["deviceConfigurations"])' <"$FIXTURE")
	[ "$ids" = "$want" ]

	# nextLinks are absolute, on this server, and keep every option.
	graph GET '/beta/deviceManagement/deviceConfigurations?$select=displayName&$expand=assignments'
	next=$(beval 'd["@odata.nextLink"]')
	[[ "$next" == "$FG/beta/deviceManagement/deviceConfigurations?\$select=displayName&\$expand=assignments&\$skiptoken="* ]]
	[ "$(beval 'sorted(d["value"][0])')" = '["@odata.type","assignments","displayName"]' ]

	# $top is honoured, and capped at the maximum.
	graph GET '/v1.0/groups?$top=7'
	[ "$(beval 'len(d["value"])')" = 7 ]
	graph GET '/v1.0/groups?$top=5000'
	[ "$(beval 'len(d["value"])')" = 245 ]
	[ "$(beval '"@odata.nextLink" in d')" = false ]
	follow "$FG/v1.0/groups?\$top=7"
	[ "$PAGES" = 35 ]
	[ "$(sort -u "$FG_DIR/ids" | wc -l)" = 245 ]
}

@test "a tampered or transplanted \$skiptoken gives 400" {
	fg_start
	TOKEN=$(app_token)
	graph GET '/v1.0/groups?$top=7'
	next=$(beval 'd["@odata.nextLink"]')
	tok=${next##*skiptoken=}
	# Flip the last character of the token.
	last=${tok: -1}
	if [ "$last" = A ]; then flip=B; else flip=A; fi
	req GET "${next%?}$flip" -H "Authorization: Bearer $TOKEN"
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = Request_BadRequest ]
	# The same token on another query is refused too.
	graph GET "/v1.0/groups?\$top=8&\$skiptoken=$tok"
	[ "$STATUS" = 400 ]
	graph GET '/v1.0/groups?$top=7&$skiptoken=garbage!'
	[ "$STATUS" = 400 ]
	# The untouched link still works.
	req GET "$next" -H "Authorization: Bearer $TOKEN"
	[ "$STATUS" = 200 ]
}

# ---- groups: $search, $filter, $count ----------------------------------------

@test "groups \$search needs ConsistencyLevel: eventual on every page, nextLink pages included" {
	fg_start
	TOKEN=$(app_token)
	graph GET /v1.0/groups -G --data-urlencode '$search="displayName:intune"'
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = Request_UnsupportedQuery ]
	[ "$(body error.message)" = "$SEARCH_MSG" ]

	graph GET /v1.0/groups -G -H 'ConsistencyLevel: eventual' \
	    --data-urlencode '$search="displayName:intune"' --data-urlencode '$top=5'
	[ "$STATUS" = 200 ]
	[ "$(beval 'len(d["value"])')" = 5 ]
	[ "$(beval 'all("intune" in v["displayName"].lower() for v in d["value"])')" = true ]
	next=$(beval 'd["@odata.nextLink"]')

	# Page 2 without the header fails exactly like page 1 ...
	req GET "$next" -H "Authorization: Bearer $TOKEN"
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = Request_UnsupportedQuery ]
	[ "$(body error.message)" = "$SEARCH_MSG" ]
	# ... and works with it.
	req GET "$next" -H "Authorization: Bearer $TOKEN" -H 'ConsistencyLevel: eventual'
	[ "$STATUS" = 200 ]
}

@test "groups \$search matches tokens by prefix in any order, with AND/OR, and rejects malformed clauses" {
	fg_start
	TOKEN=$(app_token)
	search() {
		graph GET /v1.0/groups -G -H 'ConsistencyLevel: eventual' \
		    --data-urlencode "\$search=$1" --data-urlencode '$top=999'
	}
	search '"displayName:devices pilot"'
	[ "$STATUS" = 200 ]
	[ "$(beval '[v["displayName"] for v in d["value"]]')" = '["Intune Pilot Devices"]' ]
	# Case changes split tokens: "SalesUsersEU002" has a "users" token.
	search '"displayName:users" AND "displayName:sales"'
	beval '[v["displayName"] for v in d["value"]]' | grep -q SalesUsersEU002
	# No "contains": "ntune" is not a token prefix.
	search '"displayName:ntune"'
	[ "$(beval 'len(d["value"])')" = 0 ]
	search '"displayName:o'"'"'brien" OR "description:everyone"'
	[ "$(beval 'sorted(v["displayName"] for v in d["value"])')" = '["All Staff","O'"'"'Brien Team"]' ]
	search 'displayName:intune'
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = Request_UnsupportedQuery ]
	search '"displayName:intune" AND'
	[ "$STATUS" = 400 ]
	search '"displayName:intune" and "displayName:x"'
	[ "$STATUS" = 400 ]
}

@test "groups \$filter supports startswith and eq with '' escapes without the header" {
	fg_start
	TOKEN=$(app_token)
	graph GET /v1.0/groups -G --data-urlencode "\$filter=displayName eq 'O''Brien Team'"
	[ "$STATUS" = 200 ]
	[ "$(beval '[v["displayName"] for v in d["value"]]')" = '["O'"'"'Brien Team"]' ]
	graph GET /v1.0/groups -G --data-urlencode "\$filter=startswith(displayName,'sg-')" \
	    --data-urlencode '$top=999'
	[ "$STATUS" = 200 ]
	[ "$(beval 'len(d["value"]) > 0 and all(v["displayName"].startswith("SG-") for v in d["value"])')" = true ]
	graph GET /v1.0/groups -G --data-urlencode "\$filter=displayName ne 'x'"
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = Request_UnsupportedQuery ]
}

@test "\$count: /groups/\$count needs the header; @odata.count comes on page 1 only with \$count=true and the header; \$skip is refused" {
	fg_start
	TOKEN=$(app_token)
	graph GET '/v1.0/groups/$count'
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = Request_BadRequest ]
	[ "$(body error.message)" = '$count is not currently supported.' ]
	graph GET '/v1.0/groups/$count' -H 'ConsistencyLevel: eventual'
	[ "$STATUS" = 200 ]
	[ "$BODY" = 245 ]

	graph GET '/v1.0/groups?$count=true&$top=100'
	[ "$(beval '"@odata.count" in d')" = false ]
	graph GET '/v1.0/groups?$top=100' -H 'ConsistencyLevel: eventual'
	[ "$(beval '"@odata.count" in d')" = false ]
	graph GET '/v1.0/groups?$count=true&$top=100' -H 'ConsistencyLevel: eventual'
	[ "$(beval 'd["@odata.count"]')" = 245 ]
	req GET "$(beval 'd["@odata.nextLink"]')" -H "Authorization: Bearer $TOKEN" \
	    -H 'ConsistencyLevel: eventual'
	[ "$STATUS" = 200 ]
	[ "$(beval '"@odata.count" in d')" = false ]

	graph GET '/v1.0/groups?$skip=2'
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = Request_BadRequest ]
	[ "$(body error.message)" = "'\$skip' is not supported by the service." ]
}

# ---- writes -------------------------------------------------------------------

@test "strict writes reject server-owned properties with 400 ModelValidationFailure naming the property" {
	fg_start "$(fixture_with 'f["throttle"]["writes_per_window"] = 0')"
	TOKEN=$(app_token)
	post() {
		graph POST "/beta/deviceManagement/$1" -H 'Content-Type: application/json' -d "$2"
	}
	inner() {
		body error.message | json_get Message
	}
	T='"@odata.type":"#microsoft.graph.windows10CustomConfiguration"'
	for prop in '"id":"x"' '"version":3' '"createdDateTime":"2025-01-01T00:00:00Z"' \
	    '"@odata.context":"x"' '"supportsScopeTags":true' '"assignments":[]'; do
		post deviceConfigurations "{$T,\"displayName\":\"a\",$prop}"
		[ "$STATUS" = 400 ]
		[ "$(body error.code)" = ModelValidationFailure ]
		name=${prop%%\":*}
		[[ "$(inner)" == "Invalid property '${name#\"}'"* ]]
	done
	post deviceConfigurations "{$T,\"omaSettings\":[{\"secretReferenceValueId\":\"s\"}]}"
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == "Invalid property 'omaSettings[0].secretReferenceValueId'"* ]]
	# @odata.type is required, and must belong to the collection.
	post deviceConfigurations '{"displayName":"a"}'
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = ModelValidationFailure ]
	post deviceCompliancePolicies "{$T,\"displayName\":\"a\"}"
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == *"not assignable to the expected type 'microsoft.graph.deviceCompliancePolicy'"* ]]
	# Settings catalog: name, platforms and technologies are required.
	post configurationPolicies '{"name":"a","platforms":"windows10","settings":[]}'
	[ "$STATUS" = 400 ]
	[[ "$(inner)" == *"'technologies'"* ]]
	# Nothing was created.
	follow "$FG/beta/deviceManagement/deviceConfigurations"
	[ "$(wc -l <"$FG_DIR/ids")" = 5 ]
}

@test "POST creates with 201 and server-owned fields; PATCH gives 204 and bumps version; DELETE gives 204, then 404" {
	fg_start "$(fixture_with 'f["throttle"]["writes_per_window"] = 0')"
	TOKEN=$(app_token)
	graph POST /beta/deviceManagement/deviceConfigurations -H 'Content-Type: application/json' \
	    -d '{"@odata.type":"#microsoft.graph.windows10CustomConfiguration","displayName":"Restored","omaSettings":[]}'
	[ "$STATUS" = 201 ]
	id=$(body id)
	[ -n "$id" ]
	[ "$(body version)" = 1 ]
	[ -n "$(body createdDateTime)" ] && [ -n "$(body lastModifiedDateTime)" ]
	[ "$(beval 'd["@odata.type"]')" = "#microsoft.graph.windows10CustomConfiguration" ]

	graph PATCH "/beta/deviceManagement/deviceConfigurations/$id" \
	    -H 'Content-Type: application/json' -d '{"displayName":"Renamed"}'
	[ "$STATUS" = 204 ]
	[ -z "$BODY" ]
	graph GET "/v1.0/deviceManagement/deviceConfigurations/$id"
	[ "$STATUS" = 200 ]
	[ "$(body displayName)" = Renamed ]
	[ "$(body version)" = 2 ]

	# /assign replaces the whole set; an unknown group is refused.
	g=$(fx tenants.0.groups.5.id)
	graph POST "/beta/deviceManagement/deviceConfigurations/$id/assign" \
	    -H 'Content-Type: application/json' \
	    -d "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$g\"}}]}"
	[ "$STATUS" = 200 ]
	[ "$(beval 'd["value"][0]["target"]["groupId"]')" = "$g" ]
	graph GET "/beta/deviceManagement/deviceConfigurations/$id/assignments"
	[ "$(beval 'len(d["value"])')" = 1 ]
	graph POST "/beta/deviceManagement/deviceConfigurations/$id/assign" \
	    -H 'Content-Type: application/json' \
	    -d '{"assignments":[{"target":{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"nope"}}]}'
	[ "$STATUS" = 400 ]

	graph DELETE "/beta/deviceManagement/deviceConfigurations/$id"
	[ "$STATUS" = 204 ]
	graph GET "/beta/deviceManagement/deviceConfigurations/$id"
	[ "$STATUS" = 404 ]

	# configurationPolicies is beta-only.
	graph GET /v1.0/deviceManagement/configurationPolicies
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = BadRequest ]
	[ "$(body error.message)" = "Resource not found for the segment 'configurationPolicies'." ]
}

@test "writes beyond the throttle bucket get 429 TooManyRequests with Retry-After, and succeed once that time has passed" {
	# 5 writes per 60 s: the 6th write is refused however slow the
	# machine; the fake clock then skips the wait.
	fg_start "$(fixture_with 'f["throttle"] = {"writes_per_window": 5, "window_s": 60}')"
	TOKEN=$(app_token)
	id=$(fx tenants.0.deviceConfigurations.2.id)
	patch() {
		graph PATCH "/beta/deviceManagement/deviceConfigurations/$id" \
		    -H 'Content-Type: application/json' -d "{\"description\":\"$1\"}"
	}
	for i in 1 2 3 4 5; do
		patch "$i"
		[ "$STATUS" = 204 ]
	done
	patch 6
	[ "$STATUS" = 429 ]
	[ "$(body error.code)" = TooManyRequests ]
	# A token every 12 s, and Retry-After is rounded up.
	wait_s=$(hdr Retry-After)
	[ "$wait_s" -ge 2 ] && [ "$wait_s" -le 12 ]
	# Reads are not throttled.
	graph GET "/beta/deviceManagement/deviceConfigurations/$id"
	[ "$STATUS" = 200 ]
	# Two seconds short of Retry-After is still too early ...
	req POST "$FG/_fake/clock" -d "{\"advance_s\":$((wait_s - 2))}"
	[ "$STATUS" = 200 ]
	patch 7
	[ "$STATUS" = 429 ]
	# ... and Retry-After itself is enough.
	req POST "$FG/_fake/clock" -d '{"advance_s":2}'
	patch 8
	[ "$STATUS" = 204 ]
	graph GET "/beta/deviceManagement/deviceConfigurations/$id"
	[ "$(body description)" = 8 ]
	[ "$(body version)" = 8 ]
}

# ---- faults ----------------------------------------------------------------------

@test "fault rules answer a matching request 'times' times with their status and Retry-After, then the request succeeds" {
	fg_start
	TOKEN=$(app_token)
	req POST "$FG/_fake/faults" -H 'Content-Type: application/json' -d '{"rules":[
	    {"method":"GET","path":"/groups$","status":429,"retry_after":2,"times":2},
	    {"path":"deviceCompliancePolicies","status":503,"retry_after":"http-date","body_kind":"intune_nested"},
	    {"path":"deviceConfigurations","status":504,"body_kind":"empty"}]}'
	[ "$STATUS" = 200 ]
	[ "$(beval 'len(d["value"])')" = 3 ]
	for i in 1 2; do
		graph GET /v1.0/groups
		[ "$STATUS" = 429 ]
		[ "$(body error.code)" = TooManyRequests ]
		[ "$(hdr Retry-After)" = 2 ]
		[ "$(body error.innerError.request-id)" = "$(hdr request-id)" ]
	done
	graph GET /v1.0/groups
	[ "$STATUS" = 200 ]

	graph GET /v1.0/deviceManagement/deviceCompliancePolicies
	[ "$STATUS" = 503 ]
	[ "$(body error.code)" = ServiceUnavailable ]
	[[ "$(body error.message | json_get Message)" == *" - Operation ID"* ]]
	when=$(date -d "$(hdr Retry-After)" +%s)
	[ "$when" -ge $(($(date +%s) + 1)) ] && [ "$when" -le $(($(date +%s) + 4)) ]

	graph GET /v1.0/deviceManagement/deviceConfigurations
	[ "$STATUS" = 504 ]
	[ -z "$BODY" ]
	graph GET /v1.0/deviceManagement/deviceConfigurations
	[ "$STATUS" = 200 ]

	req GET "$FG/_fake/faults"
	[ "$BODY" = '{"value":[]}' ]
	# A 401 fault looks like Graph's expired-token answer.
	req POST "$FG/_fake/faults" -d '{"rules":[{"path":"groups","status":401}]}'
	graph GET /v1.0/groups
	[ "$STATUS" = 401 ]
	[ "$(body error.code)" = InvalidAuthenticationToken ]
	[[ "$(hdr WWW-Authenticate)" == 'Bearer realm=""'* ]]
	# An invalid rule is refused and queues nothing.
	req POST "$FG/_fake/faults" -d '{"rules":[{"path":"x","status":500},{"path":"(","status":500}]}'
	[ "$STATUS" = 400 ]
	[[ "$(body error.message)" == "path regex:"* ]]
	req GET "$FG/_fake/faults"
	[ "$BODY" = '{"value":[]}' ]
}

@test "fault kinds that spoil a 200 page: html, text_type, truncated, no_value, value_not_array, next_link_not_string" {
	fg_start "$(fixture_with 'f["page_sizes"]["groups"] = 2')"
	TOKEN=$(app_token)
	req POST "$FG/_fake/faults" -d '{"rules":[
	    {"path":"/groups$","status":200,"body_kind":"html"},
	    {"path":"/groups$","status":200,"body_kind":"text_type"},
	    {"path":"/groups$","status":200,"body_kind":"truncated"},
	    {"path":"/groups$","status":200,"body_kind":"no_value"},
	    {"path":"/groups$","status":200,"body_kind":"value_not_array"},
	    {"path":"/groups$","status":200,"body_kind":"next_link_not_string"}]}'
	[ "$STATUS" = 200 ]
	[ "$(beval '[r["body_kind"] for r in d["value"]]')" = '["html","text_type","truncated","no_value","value_not_array","next_link_not_string"]' ]
	graph GET /v1.0/groups
	[ "$STATUS" = 200 ]
	[[ "$(hdr Content-Type)" == text/html* ]]
	[[ "$BODY" == "<!DOCTYPE html>"* ]]
	[ -n "$(hdr request-id)" ]
	graph GET /v1.0/groups
	[ "$STATUS" = 200 ]
	[ "$(hdr Content-Type)" = text/plain ]
	[ "$(beval 'len(d["value"])')" = 2 ]
	graph GET /v1.0/groups
	[ "$STATUS" = 200 ]
	[[ "$(hdr Content-Type)" == application/json* ]]
	[[ "$BODY" == '{"@odata.context":'* ]]
	! printf '%s' "$BODY" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null
	graph GET /v1.0/groups
	[ "$(beval '"value" in d')" = false ]
	[ "$(beval '"@odata.nextLink" in d')" = true ]
	graph GET /v1.0/groups
	[ "$(beval 'd["value"]')" = '{}' ]
	graph GET /v1.0/groups
	[ "$(beval 'd["@odata.nextLink"]')" = 42 ]
	[ "$(beval 'len(d["value"])')" = 2 ]
	# Used up: the next page is the real one; the log marks the faults.
	graph GET /v1.0/groups
	next=$(beval 'd["@odata.nextLink"]')
	[[ "$next" == "$FG/v1.0/groups?"* ]]
	rid=$(hdr request-id)
	req GET "$FG/_fake/requests"
	[ "$(beval '[e.get("fault", False) for e in d["value"][1:]]')" = '[true,true,true,true,true,true,false]' ]
	# Each entry has the request-id the server answered with.
	[ "$(beval 'd["value"][-1]["request_id"]')" = "$rid" ]
	# "query" picks the pages after the first.
	req POST "$FG/_fake/faults" -d '{"rules":[{"path":"/groups$","query":"skiptoken","status":200,"body_kind":"no_value"}]}'
	[ "$(beval 'd["value"][0]["query"]')" = skiptoken ]
	graph GET /v1.0/groups
	[ "$(beval 'len(d["value"])')" = 2 ]
	req GET "$next" -H "Authorization: Bearer $TOKEN"
	[ "$STATUS" = 200 ]
	[ "$(beval '"value" in d')" = false ]
	req POST "$FG/_fake/faults" -d '{"rules":[{"path":"x","query":"(","status":200}]}'
	[ "$STATUS" = 400 ]
	[[ "$(body error.message)" == "query regex:"* ]]
}

@test "fault kinds that spoil a \$batch answer: no_responses, item_missing, item_unknown_id, item_no_id, item_no_status" {
	fg_start "$(fixture_with 'f["batch_shuffle"] = False')"
	TOKEN=$(app_token)
	batch='{"requests":[{"id":"a","method":"GET","url":"/groups?$top=1"},{"id":"b","method":"GET","url":"/groups?$top=2"}]}'
	req POST "$FG/_fake/faults" -d '{"rules":[
	    {"path":"/\\$batch$","status":200,"body_kind":"no_responses"},
	    {"path":"/\\$batch$","status":200,"body_kind":"item_missing"},
	    {"path":"/\\$batch$","status":200,"body_kind":"item_unknown_id"},
	    {"path":"/\\$batch$","status":200,"body_kind":"item_no_id"},
	    {"path":"/\\$batch$","status":200,"body_kind":"item_no_status"}]}'
	[ "$STATUS" = 200 ]
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' -d "$batch"
	[ "$STATUS" = 200 ]
	[ "$BODY" = '{}' ]
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' -d "$batch"
	[ "$(beval '[r["id"] for r in d["responses"]]')" = '["b"]' ]
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' -d "$batch"
	[ "$(beval '[r["id"] for r in d["responses"]]')" = '["fakegraph-unknown-id","b"]' ]
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' -d "$batch"
	[ "$(beval '[r.get("id") for r in d["responses"]]')" = '[null,"b"]' ]
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' -d "$batch"
	[ "$(beval '[r.get("status") for r in d["responses"]]')" = '[null,200]' ]
	# A page kind on an item's path spoils that item: its JSON body comes
	# back as a string that does not parse.  (Queued only now: items
	# meet the rules too, so it would have spoiled an earlier batch.)
	req POST "$FG/_fake/faults" -d '{"rules":[{"path":"/groups$","status":200,"body_kind":"truncated"}]}'
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' -d "$batch"
	[ "$(beval '[r["status"] for r in d["responses"]]')" = '[200,200]' ]
	[ "$(beval 'isinstance(d["responses"][0]["body"], str)')" = true ]
	[[ "$(beval 'd["responses"][0]["headers"]["Content-Type"]')" == application/json* ]]
	[ "$(beval 'isinstance(d["responses"][1]["body"], dict)')" = true ]
	req GET "$FG/_fake/faults"
	[ "$BODY" = '{"value":[]}' ]
}

# ---- request log and reset --------------------------------------------------------

@test "the request log lists requests with Authorization redacted and no secret anywhere" {
	fg_start
	secret=$(fx tenants.0.apps.0.client_secret)
	rt=$(fx tenants.0.users.0.refresh_token)
	TOKEN=$(app_token)
	req POST "$FG/contoso/oauth2/v2.0/token" -d grant_type=refresh_token \
	    -d "client_id=$(fx tenants.0.apps.0.client_id)" -d "refresh_token=$rt" \
	    -d "client_secret=$secret"
	[ "$STATUS" = 200 ]
	new_rt=$(body refresh_token)
	graph GET '/v1.0/groups?$top=3' -H 'client-request-id: abc-123'
	req GET "$FG/_fake/requests"
	[ "$STATUS" = 200 ]
	log=$BODY
	[ "$(beval 'len(d["value"])')" = 3 ]
	[ "$(beval '[e["seq"] for e in d["value"]]')" = '[1,2,3]' ]
	[ "$(beval 'd["value"][2]["path"]')" = /v1.0/groups ]
	[ "$(beval 'd["value"][2]["query"]')" = '$top=3' ]
	[ "$(beval 'd["value"][2]["status"]')" = 200 ]
	[ "$(beval 'd["value"][2]["headers"]["Authorization"]')" = "Bearer <redacted>" ]
	[ "$(beval 'd["value"][2]["headers"]["client-request-id"]')" = abc-123 ]
	[ "$(beval 'd["value"][0]["time_ms"] <= d["value"][2]["time_ms"]')" = true ]
	[[ "$(beval 'd["value"][0]["body"]')" == *"client_secret=<redacted>"* ]]
	[[ "$(beval 'd["value"][1]["body"]')" == *"refresh_token=<redacted>"* ]]
	# No secret, refresh token or access token appears anywhere.
	for s in "$secret" "$rt" "$new_rt" "$TOKEN"; do
		if [[ "$log" == *"$s"* ]]; then
			echo "the log contains a secret: $s" >&2
			return 1
		fi
	done
}

@test "POST /_fake/reset clears the log, faults and throttling but keeps the data" {
	fg_start "$(fixture_with 'f["throttle"] = {"writes_per_window": 5, "window_s": 60}')"
	TOKEN=$(app_token)
	id=$(fx tenants.0.deviceConfigurations.2.id)
	graph PATCH "/beta/deviceManagement/deviceConfigurations/$id" \
	    -H 'Content-Type: application/json' -d '{"displayName":"Kept"}'
	[ "$STATUS" = 204 ]
	for i in 2 3 4 5; do
		graph PATCH "/beta/deviceManagement/deviceConfigurations/$id" \
		    -H 'Content-Type: application/json' -d '{"displayName":"Kept"}'
	done
	graph PATCH "/beta/deviceManagement/deviceConfigurations/$id" \
	    -H 'Content-Type: application/json' -d '{"displayName":"Kept"}'
	[ "$STATUS" = 429 ]
	req POST "$FG/_fake/faults" -d '{"rules":[{"path":"groups","status":500}]}'

	req POST "$FG/_fake/reset"
	[ "$STATUS" = 204 ]
	req GET "$FG/_fake/requests"
	[ "$BODY" = '{"value":[]}' ]
	req GET "$FG/_fake/faults"
	[ "$BODY" = '{"value":[]}' ]
	graph GET /v1.0/groups
	[ "$STATUS" = 200 ]
	graph PATCH "/beta/deviceManagement/deviceConfigurations/$id" \
	    -H 'Content-Type: application/json' -d '{"description":"after reset"}'
	[ "$STATUS" = 204 ]
	graph GET "/beta/deviceManagement/deviceConfigurations/$id"
	[ "$(body displayName)" = Kept ]
	# Tokens survive a reset too.
	req GET "$FG/_fake/requests"
	[ "$(beval 'len(d["value"])')" = 3 ]
}

# ---- $batch -------------------------------------------------------------------------

@test "\$batch with 21 requests, duplicate ids or a body without Content-Type gives 400" {
	fg_start
	TOKEN=$(app_token)
	items=$(python3 -c 'import json; print(json.dumps({"requests": [{"id": str(i), "method": "GET", "url": "/groups"} for i in range(21)]}))')
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' -d "$items"
	[ "$STATUS" = 400 ]
	[ "$(body error.code)" = BadRequest ]
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' \
	    -d '{"requests":[{"id":"1","method":"GET","url":"/groups"},{"id":"1","method":"GET","url":"/groups"}]}'
	[ "$STATUS" = 400 ]
	[[ "$(body error.message)" == *duplicated* ]]
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' \
	    -d '{"requests":[{"id":"1","method":"POST","url":"/deviceManagement/deviceConfigurations","body":{}}]}'
	[ "$STATUS" = 400 ]
	[[ "$(body error.message)" == *Content-Type* ]]
	# 20 is fine.
	items=$(python3 -c 'import json; print(json.dumps({"requests": [{"id": str(i), "method": "GET", "url": "/groups?$top=1"} for i in range(20)]}))')
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' -d "$items"
	[ "$STATUS" = 200 ]
	[ "$(beval 'len(d["responses"])')" = 20 ]
}

@test "a \$batch returns 200 with per-item statuses and bodies, faults and 424 for failed dependencies, in shuffled order" {
	fg_start
	TOKEN=$(app_token)
	req POST "$FG/_fake/faults" -d '{"rules":[{"path":"deviceCompliancePolicies$","status":429,"retry_after":3}]}'
	batch='{"requests":[
	    {"id":"a","method":"GET","url":"/groups?$top=2"},
	    {"id":"b","method":"GET","url":"/deviceManagement/configurationPolicies"},
	    {"id":"c","method":"POST","url":"/deviceManagement/deviceConfigurations",
	     "headers":{"Content-Type":"application/json"},"body":{"displayName":"no type"}},
	    {"id":"d","method":"GET","url":"/groups?$top=1","dependsOn":["c"]},
	    {"id":"e","method":"GET","url":"/deviceManagement/deviceCompliancePolicies"},
	    {"id":"f","method":"GET","url":"/groups/$count","headers":{"ConsistencyLevel":"eventual"}},
	    {"id":"g","method":"GET","url":"/groups?$top=1","dependsOn":["a"]}]}'
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' -d "$batch"
	[ "$STATUS" = 200 ]
	st() {
		beval "[r[\"status\"] for r in d[\"responses\"] if r[\"id\"] == \"$1\"][0]"
	}
	[ "$(st a)" = 200 ]
	[ "$(st b)" = 400 ]	# beta-only URL in a v1.0 batch
	[ "$(st c)" = 400 ]
	[ "$(st d)" = 424 ]
	[ "$(st e)" = 429 ]
	[ "$(st f)" = 200 ]
	[ "$(st g)" = 200 ]
	[ "$(beval '[r["headers"]["Retry-After"] for r in d["responses"] if r["id"] == "e"][0]')" = 3 ]
	[ "$(beval '[len(r["body"]["value"]) for r in d["responses"] if r["id"] == "a"][0]')" = 2 ]
	order=$(beval '"".join(r["id"] for r in d["responses"])')
	[ "$order" != abcdefg ]
	# The same batch comes back in the same order.
	graph POST '/v1.0/$batch' -H 'Content-Type: application/json' -d "$batch"
	[ "$(beval '"".join(r["id"] for r in d["responses"])')" = "$order" ]
	# Items are logged with their batch id; d (424) never ran.
	req GET "$FG/_fake/requests"
	[ "$(beval 'd["value"][0]["path"]')" = /contoso/oauth2/v2.0/token ]
	[ "$(beval 'sorted(e["batch_id"] for e in d["value"][1:7])')" = '["a","b","c","e","f","g"]' ]
	[ "$(beval 'd["value"][7]["path"]')" = '/v1.0/$batch' ]
}

# ---- transport ----------------------------------------------------------------------

@test "one keep-alive connection serves several requests, and tenants see only their own data" {
	fg_start
	TOKEN=$(app_token)
	run curl -sv -o /dev/null -o /dev/null -H "Authorization: Bearer $TOKEN" \
	    "$FG/v1.0/groups?\$top=1" "$FG/v1.0/deviceManagement/deviceConfigurations"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Re-using existing connection"* ]]

	TOKEN=$(app_token 0 1)
	follow "$FG/v1.0/deviceManagement/deviceConfigurations"
	want=$(json_eval '"\n".join(p["id"] for p in d["tenants"][1]["deviceConfigurations"])' <"$FIXTURE")
	[ "$(cat "$FG_DIR/ids")" = "$want" ]
	graph GET "/v1.0/deviceManagement/deviceConfigurations/$(fx tenants.0.deviceConfigurations.0.id)"
	[ "$STATUS" = 404 ]
}
