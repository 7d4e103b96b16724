#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/monitoring.sh: the shipped monitoring files, with Debian's promtool:
# the rules pass promtool check rules and their unit tests (promtool test rules); every
# alert has a case where it fires and one where it must not, and the tests fail when an
# alert never fires or a threshold is moved; the rules and the dashboard name only metrics
# that something writes (the responder's prometheus.c, the shipper's ship-metrics.c, exec's
# exec-metrics.c); the Grafana dashboard is JSON that Grafana's import takes
# (title, uid, schemaVersion, panels with ids, grid positions and queries, the variables
# they use defined). tests/integration/prometheus.sh runs the rules and the dashboard's
# queries in a real Prometheus. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

MON=$top_srcdir/monitoring
RULES=$MON/idwise-fcgi.rules.yml
RULE_TESTS=("$MON/idwise-fcgi.rules.test.yml" "$MON/idwise-fcgi.rules.week.test.yml")
DASHBOARD=$MON/idwise-fcgi.dashboard.json
PY=/usr/bin/python3
command -v promtool >/dev/null || bail "no promtool: install the Debian package prometheus"

# --- promtool check rules -------------------------------------------------------------

out=$(promtool check rules "$RULES" 2>&1)
is "$?" 0 "promtool check rules accepts idwise-fcgi.rules.yml" || diag "$out"
like "$out" 'SUCCESS: [0-9]+ rules found' "  $(printf '%s' "$out" | grep -o '[0-9]* rules found')"
sed 's/idwise_log_sync_failed == 1/idwise_log_sync_failed == = 1/' "$RULES" >"$TEST_TMP/bad.rules.yml"
ok "  and refuses a copy with a broken expression" \
    not quiet promtool check rules "$TEST_TMP/bad.rules.yml" 2>/dev/null

# --- the unit tests -------------------------------------------------------------------

# among WORD LIST...: WORD is one of LIST.
among()
{
	local want=$1 x
	shift
	for x in "$@"; do
		[ "$x" != "$want" ] || return 0
	done
	return 1
}

# rules_test DIR [ALERT]: promtool test rules with the rules of DIR, on the test files (those
# with a case of ALERT).
rules_test()
{
	local t
	local -a files=()
	for t in "${RULE_TESTS[@]}"; do
		[ -z "${2:-}" ] || grep -q "alertname: $2\$" "$t" || continue
		cp "$t" "$1/" && files+=("${t##*/}") || return 1
	done
	(cd "$1" && promtool test rules "${files[@]}") >"$1/promtool.out" 2>&1
}
mkdir -p "$TEST_TMP/shipped" && cp "$RULES" "$TEST_TMP/shipped/"
ok "promtool test rules: the unit tests of every alert pass" rules_test "$TEST_TMP/shipped" ||
    diag "$(tail -n 40 "$TEST_TMP/shipped/promtool.out")"

# rules.py ACTION ...: the rules and tests read with python3-yaml.
#   alerts                        the alert names of the rules, one a line
#   cases                         "NAME FIRING QUIET": each alert's cases expecting alerts,
#                                 and expecting none, over the test files
#   exprs                         every expression of the rules and the dashboard, one a line
#   mutate NAME EXPR OUT          the rules with NAME's expression made EXPR, written to OUT
#   mutate-all EXPR OUT           the rules with every alert's expression made EXPR
#   replace NAME FROM TO OUT      the rules with FROM made TO in NAME's expression
#   unfor NAME OUT                the rules with NAME's for: removed
cat >"$TEST_TMP/rules.py" <<'PY'
import json, sys, yaml
rules_file, tests, dashboard, action = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4]
args = sys.argv[5:]
rules = yaml.safe_load(open(rules_file))
every = [r for g in rules["groups"] for r in g["rules"]]
if action == "alerts":
    for r in every:
        if "alert" in r:
            print(r["alert"])
elif action == "cases":
    counts = {r["alert"]: [0, 0] for r in every if "alert" in r}
    for t in tests:
        for group in yaml.safe_load(open(t))["tests"]:
            for case in group.get("alert_rule_test", []):
                counts.setdefault(case["alertname"], [0, 0])
                counts[case["alertname"]][0 if case.get("exp_alerts") else 1] += 1
    for name, (firing, quiet) in counts.items():
        print(name, firing, quiet)
elif action == "exprs":
    for r in every:
        print(" ".join(str(r["expr"]).split()))
    for p in json.load(open(dashboard))["panels"]:
        for t in p.get("targets", []):
            print(" ".join(t["expr"].split()))
elif action == "mutate-all":
    for r in every:
        if "alert" in r:
            r["expr"] = args[0]
    yaml.safe_dump(rules, open(args[1], "w"), sort_keys=False)
elif action in ("mutate", "replace", "unfor"):
    name, out = args[0], args[-1]
    found = [r for r in every if r.get("alert", r.get("record")) == name]
    assert len(found) == 1, name
    if action == "mutate":
        found[0]["expr"] = args[1]
    elif action == "unfor":
        del found[0]["for"]
    else:
        assert args[1] in str(found[0]["expr"]), args[1]
        found[0]["expr"] = str(found[0]["expr"]).replace(args[1], args[2])
    yaml.safe_dump(rules, open(out, "w"), sort_keys=False)
PY
rules_py()
{
	"$PY" "$TEST_TMP/rules.py" "$RULES" "${RULE_TESTS[*]}" "$DASHBOARD" "$@"
}

mapfile -t ALERTS < <(rules_py alerts)
ok "the rules hold at least the 7 alerts asked for (${#ALERTS[@]})" test "${#ALERTS[@]}" -ge 7
for want in IDWiseNoDeliveries IDWiseReplying503 IDWiseSyncFailed IDWiseDedupConflict \
    IDWiseRejectRate IDWiseShipperBrokerDown IDWiseShipperLagging IDWiseDeadLetters; do
	ok "  $want is one" among "$want" "${ALERTS[@]}"
done
rules_py cases >"$TEST_TMP/cases"
while read -r name firing quiet; do
	ok "$name: $firing case(s) where it fires, $quiet where it must not" \
	    test "$firing" -ge 1 -a "$quiet" -ge 1
	ok "  an alert of the rules" among "$name" "${ALERTS[@]}"
done <"$TEST_TMP/cases"
is "$(wc -l <"$TEST_TMP/cases")" "${#ALERTS[@]}" "every alert of the rules has test cases"

# The tests can fail: an alert that never fires, and thresholds moved, each make them fail.
# mutant_fails NAME ACTION ARG...: the tests of alert NAME fail with the rules made so
# (rules.py ACTION ARG...), naming NAME.
mutant_fails()
{
	local name=$1 dir
	dir=$(mktemp -d "$TEST_TMP/mutant.XXXXXX") || return 1
	shift
	rules_py "$@" "$dir/idwise-fcgi.rules.yml" || return 1
	! rules_test "$dir" "$name" && grep -q "alertname: $name," "$dir/promtool.out"
}
# Every alert made never to fire, in one copy: each alert's firing case must fail.
mkdir -p "$TEST_TMP/silent"
rules_py mutate-all 'vector(1) == 0' "$TEST_TMP/silent/idwise-fcgi.rules.yml"
ok "every alert made never to fire: the tests fail" not rules_test "$TEST_TMP/silent"
for name in "${ALERTS[@]}"; do
	ok "  $name's among the failures" grep -q "alertname: $name," "$TEST_TMP/silent/promtool.out"
done
ok "IDWiseRejectRate refusing at 1%, not 20%: the tests fail (busy:443 would fire)" \
    mutant_fails IDWiseRejectRate replace IDWiseRejectRate '> 0.2' '> 0.01'
ok "IDWiseNoDeliveries without 'normally busy': the tests fail (quiet:443 would fire)" \
    mutant_fails IDWiseNoDeliveries replace idwise:alert_busy_deliveries 'vector(5)' 'vector(0)'
ok "IDWiseDiskFilling at 10 GB, not 1 GB: the tests fail (roomy:443 would fire)" \
    mutant_fails IDWiseDiskFilling replace IDWiseDiskFilling '< 1e9' '< 1e10'
ok "IDWiseShipperBrokerDown without its for: 5m: the tests fail (b:9100, down 2 minutes, would fire)" \
    mutant_fails IDWiseShipperBrokerDown unfor IDWiseShipperBrokerDown

# --- the metric names -----------------------------------------------------------------

# The names the responder writes (prometheus.c: its quoted idwise_* names, histograms with
# their _bucket, _sum and _count), the shipper (ship-metrics.c, once it is in the tree) and
# exec (exec-metrics.c).
source_names()	# source_names FILE [histogram]
{
	grep -oE '"(# (HELP|TYPE) )?idwise_[a-z_]+' "$1" | sed -E 's/^"(# (HELP|TYPE) )?//' |
	    sort -u
}
PROM_C=$(find "$top_srcdir/src" -name prometheus.c)
SHIP_C=$(find "$top_srcdir/src" -name ship-metrics.c)
EXEC_C=$(find "$top_srcdir/src" -name exec-metrics.c)
[ -n "$EXEC_C" ] || bail "no exec-metrics.c in the tree"
{
	source_names "$PROM_C"
	for h in $(grep -oE 'write_histogram\(out, "idwise_[a-z_]+' "$PROM_C" | sed 's/.*"//'); do
		printf '%s_bucket\n%s_sum\n%s_count\n' "$h" "$h" "$h"
	done
	if [ -n "$SHIP_C" ]; then
		source_names "$SHIP_C"
	else
		# idwise-log ship (issue 15) is not merged yet: the names of its ship-metrics.c
		printf '%s\n' idwise_ship_records_total idwise_ship_duplicates_total \
		    idwise_ship_publish_failures_total idwise_ship_last_seq idwise_ship_log_head_seq \
		    idwise_ship_in_flight idwise_ship_broker_up idwise_ship_broker_state \
		    idwise_ship_last_ack_timestamp_seconds
	fi
	source_names "$EXEC_C"
	# node_exporter's and Prometheus' own
	printf '%s\n' node_textfile_mtime_seconds up
} | sort -u >"$TEST_TMP/known"
[ -n "$SHIP_C" ] || diag "no ship-metrics.c in the tree: the shipper's names are the test's list"
ok "prometheus.c's names are read ($(grep -c . "$TEST_TMP/known") known)" \
    grep -qx idwise_append_seconds_bucket "$TEST_TMP/known"
ok "  and exec-metrics.c's (idwise_exec_dead_letter_bytes)" \
    grep -qx idwise_exec_dead_letter_bytes "$TEST_TMP/known"
is "$(grep -ciE 'planned|not written' "$RULES" "${RULE_TESTS[@]}" "$DASHBOARD" | grep -v ':0$')" "" \
    "no metric of the rules, their tests or the dashboard is said to be planned, or not written"
rules_py exprs >"$TEST_TMP/exprs"
# the names in the expressions: words followed by { [ ( or an operator, not functions,
# keywords, labels or recording rules
grep -oE '\b(idwise_[a-z_]+|node_[a-z_]+|up)\b *(\{|\[|\)| |$)' "$TEST_TMP/exprs" |
    grep -oE '^[a-z_]+' | sort -u >"$TEST_TMP/used"
is "$(comm -23 "$TEST_TMP/used" "$TEST_TMP/known" | paste -sd ' ')" \
    "" "the rules and the dashboard use only metrics that are written"
ok "  (the check reads them: $(paste -sd ' ' "$TEST_TMP/used" | cut -c1-60)...)" \
    grep -qx idwise_requests_total "$TEST_TMP/used"
echo 'idwise_no_such_metric{job="x"}' >>"$TEST_TMP/exprs"
grep -oE '\b(idwise_[a-z_]+|node_[a-z_]+|up)\b *(\{|\[|\)| |$)' "$TEST_TMP/exprs" |
    grep -oE '^[a-z_]+' | sort -u >"$TEST_TMP/used2"
ok "  and the check finds a name nothing writes" \
    grep -qx idwise_no_such_metric <(comm -23 "$TEST_TMP/used2" "$TEST_TMP/known")

# --- the dashboard --------------------------------------------------------------------

# dashboard_problems FILE: what Grafana's import would lack, one line each; none: valid.
cat >"$TEST_TMP/dashboard.py" <<'PY'
import json, re, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError as e:
    sys.exit("not JSON: %s" % e)
problems = []
def need(cond, what):
    if not cond:
        problems.append(what)
need(isinstance(d, dict), "not an object")
need(isinstance(d.get("title"), str) and d["title"], "no title")
need(isinstance(d.get("uid"), str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", d["uid"] or ""), "bad uid")
need(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 30, "schemaVersion")
need("id" not in d or d["id"] is None, "a dashboard id (import would overwrite another)")
panels = d.get("panels")
need(isinstance(panels, list) and panels, "no panels")
variables = {v.get("name") for v in d.get("templating", {}).get("list", [])}
ids = [p.get("id") for p in panels or []]
need(len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids), "panel ids not unique integers")
for p in panels or []:
    name = "panel %s (%s)" % (p.get("id"), p.get("title"))
    need(isinstance(p.get("type"), str) and p["type"], name + ": no type")
    need(p.get("title"), name + ": no title")
    g = p.get("gridPos", {})
    need(all(isinstance(g.get(k), int) for k in "hwxy") and g.get("x", 0) + g.get("w", 0) <= 24,
         name + ": gridPos")
    if p.get("type") == "row":
        continue
    targets = p.get("targets")
    need(isinstance(targets, list) and targets, name + ": no targets")
    refs = [t.get("refId") for t in targets or []]
    need(len(refs) == len(set(refs)) and all(refs), name + ": refIds")
    for t in targets or []:
        need(isinstance(t.get("expr"), str) and t["expr"], name + ": a target without expr")
        for v in re.findall(r"\$(\w+)", t.get("expr", "")):
            need(v in variables or v.startswith("__"), name + ": undefined variable $" + v)
    ds = p.get("datasource", {})
    need(ds.get("type") == "prometheus" and ds.get("uid", "").strip("${}") in variables,
         name + ": datasource is not the dashboard's Prometheus variable")
for v in d.get("templating", {}).get("list", []):
    need(v.get("name") and v.get("type"), "a variable without name or type")
print("\n".join(problems))
PY
is "$("$PY" "$TEST_TMP/dashboard.py" "$DASHBOARD" 2>&1)" "" \
    "the Grafana dashboard is valid JSON with what import needs"
like "$(jq -r '[.title, (.panels | length)] | @tsv' "$DASHBOARD")" '^idwise-fcgi	[0-9]+$' \
    "  titled idwise-fcgi, with $(jq '.panels | length' "$DASHBOARD") panels"
jq '.panels[1].gridPos.x = 20 | .panels[2].targets[0].expr = "rate(x[$nowhere])" | del(.uid)' \
    "$DASHBOARD" >"$TEST_TMP/bad.json"
like "$("$PY" "$TEST_TMP/dashboard.py" "$TEST_TMP/bad.json" 2>&1 | paste -sd '|')" \
    'bad uid.*gridPos.*undefined variable \$nowhere' \
    "  and the check finds a panel off the grid, an undefined variable and a missing uid"
head -c 300 "$DASHBOARD" >"$TEST_TMP/cut.json"
like "$("$PY" "$TEST_TMP/dashboard.py" "$TEST_TMP/cut.json" 2>&1)" '^not JSON' "  and a cut file"

done_testing
