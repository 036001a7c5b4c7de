/*
 * bench (m): backup-capture of a generated tenant (bench/gen_tenant.py:
 * 2,000 policies across the five policy families, 30 settings per
 * settings-catalog policy, 3 assignments each) against the fake Graph
 * server, run by `oprun worker --once` (the code an executor runs).
 *
 * Prints the wall time, the Graph requests made over the wire beside
 * the fewest a capture can make (every list page, plus every per-item
 * read packed 20 to a $batch), documents written per second and the
 * process's peak RssAnon.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench.h"
#include "runtime.h"
#include "store.h"

#define POLICIES       2000
#define QUICK_POLICIES 400
#define LIST_PAGE      1000 /* the fake server's default page */
#define SC_PAGE	       25   /* settings catalog lists and /settings */

struct capture_env {
	char dir[256];
	int port;
	pid_t fake;
	cJSON *counts; /* what gen_tenant.py generated */
};

static void
sh(const char *cmd, const char *what)
{
	if (system(cmd) != 0)
		die(what);
}

static double
count_of(const cJSON *counts, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(counts, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* The fewest requests: each family's list pages, then every per-item
 * read (assignments; settings pages; definition values and their
 * presentation values; compliance scheduled actions; each script's own
 * GET) packed 20 to a $batch. */
static double
capture_minimum(const cJSON *c, double *reads)
{
	double dc = count_of(c, "deviceConfigurations");
	double cp = count_of(c, "deviceCompliancePolicies");
	double sc = count_of(c, "configurationPolicies");
	double gp = count_of(c, "groupPolicyConfigurations");
	double ps = count_of(c, "deviceManagementScripts");
	double settings = count_of(c, "settings_per_policy");
	double dv = count_of(c, "definition_values");
	double lists = ceil(dc / LIST_PAGE) + ceil(cp / LIST_PAGE) +
	    ceil(sc / SC_PAGE) + ceil(gp / LIST_PAGE) + ceil(ps / LIST_PAGE) +
	    2; /* assignment filters, scope tags */

	*reads = dc + cp * 2 + sc * (ceil(settings / SC_PAGE) + 1) +
	    gp * (1 + dv + 1) + ps * 2;
	return lists + ceil(*reads / 20);
}

static void
capture_setup(struct capture_env *e, int policies)
{
	char cmd[2048], path[600];
	FILE *f;

	snprintf(e->dir, sizeof(e->dir), "/tmp/oprun-bench.XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		die("mkdtemp failed");
	snprintf(cmd, sizeof(cmd),
	    "python3 bench/gen_tenant.py %d "
	    ">%s/fixture.json 2>%s/counts.json && mkdir -m 755 %s/plugins && "
	    "install -m 644 %s/directory-sync.so %s/backup-capture.so "
	    "%s/plugins/ && %s keygen %s/key >/dev/null",
	    policies, e->dir, e->dir, e->dir, bundled_src, bundled_src, e->dir,
	    oprun_bin, e->dir);
	sh(cmd,
	    "cannot make the capture fixture, plugins or key (build the "
	    "Intune plugins: make)");
	snprintf(path, sizeof(path), "%s/oprun.ini", e->dir);
	if ((f = fopen(path, "w")) == NULL)
		die("cannot write config");
	fprintf(f,
	    "[store]\npath = store\nmap_size_mb = 8192\ndurability = "
	    "relaxed\nsecrets_key_file = key\n[runner]\nplugin_dir = plugins\n"
	    "[log]\nlevel = warn\n");
	fclose(f);
	snprintf(path, sizeof(path), "%s/fixture.json", e->dir);
	e->fake = start_fakegraph(e->dir, path, &e->port);
	graph_env(e->dir, e->port);
	snprintf(path, sizeof(path), "%s/counts.json", e->dir);
	{
		char *text = NULL;
		size_t n = 0;
		FILE *c = fopen(path, "r");

		if (c == NULL || getdelim(&text, &n, '\0', c) < 0)
			die("cannot read the fixture counts");
		fclose(c);
		e->counts = cJSON_Parse(text);
		free(text);
	}
}

/* Submits type and runs it with `oprun worker --once`, sampling its
 * memory; seconds taken. */
static double
run_worker(const struct capture_env *e, const char *type, struct peak_mem *pk)
{
	char cmd[1024], cfg[400];
	double t0;
	pid_t pid;

	snprintf(cfg, sizeof(cfg), "%s/oprun.ini", e->dir);
	snprintf(cmd, sizeof(cmd),
	    "%s -c %s submit %s --tenant contoso "
	    "--initiator bench --payload '{}' >/dev/null",
	    oprun_bin, cfg, type);
	sh(cmd, "submit failed");
	t0 = now_s();
	pid = fork();
	if (pid == 0) {
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execl(oprun_bin, oprun_bin, "-c", cfg, "worker", "--once",
		    (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || watch_process(pid, pk) != 0)
		die("oprun worker failed");
	return now_s() - t0;
}

/* Requests in the fake server's log: over the wire (not $batch items,
 * not the token endpoint) and $batch items. */
static void
count_requests(const struct capture_env *e, double *wire, double *items)
{
	char cmd[600], path[400];
	char *text = NULL;
	size_t n = 0;
	FILE *f;
	cJSON *log, *v, *entry;

	snprintf(path, sizeof(path), "%s/requests.json", e->dir);
	snprintf(cmd, sizeof(cmd),
	    "curl -sf http://127.0.0.1:%d/_fake/"
	    "requests >%s",
	    e->port, path);
	sh(cmd, "cannot read the fake server's request log");
	if ((f = fopen(path, "r")) == NULL || getdelim(&text, &n, '\0', f) < 0)
		die("cannot read the request log");
	fclose(f);
	log = cJSON_Parse(text);
	free(text);
	v = cJSON_GetObjectItemCaseSensitive(log, "value");
	*wire = *items = 0;
	cJSON_ArrayForEach(entry, v) {
		const char *p = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(entry, "path"));

		if (cJSON_GetObjectItemCaseSensitive(entry, "batch_id"))
			(*items)++;
		else if (p != NULL && strstr(p, "/oauth2/") == NULL)
			(*wire)++;
	}
	cJSON_Delete(log);
}

static uint64_t
last_run_documents(const struct capture_env *e, char *state, size_t len)
{
	struct runtime rt;
	struct diag d = { 0 };
	struct run_filter f = { .type = "backup-capture", .limit = 1 };
	struct run *runs = NULL;
	size_t n = 0;
	uint64_t docs = 0, bytes = 0;
	char cfg[400], err[512];

	snprintf(cfg, sizeof(cfg), "%s/oprun.ini", e->dir);
	if (runtime_open(&rt, cfg, RUNTIME_STORE, &d) != 0 ||
	    store_list_runs(rt.st, &f, &runs, &n, err, sizeof(err)) != 0 ||
	    n != 1)
		die("cannot read the capture run");
	snprintf(state, len, "%s", run_state_name(runs[0].state));
	store_doc_count(rt.st, runs[0].id, &docs, &bytes, err, sizeof(err));
	store_runs_free(runs, n);
	runtime_close(&rt);
	return docs;
}

void
bench_capture(void)
{
	double wall[16], made[16], dps[16], anon[16], items = 0, reads, min;
	int policies = quick ? QUICK_POLICIES : POLICIES;
	int n = rounds < 3 ? rounds : 3;
	struct capture_env e;
	struct peak_mem sync_mem = { 0, 0 };
	char note[256], state[32] = "";
	char cmd[600];

	if (fakegraph_bin == NULL)
		return;
	capture_setup(&e, policies);
	run_worker(&e, "directory-sync", &sync_mem);
	for (int r = 0; r < n; r++) {
		struct peak_mem pk = { 0, 0 };
		uint64_t docs;

		snprintf(cmd, sizeof(cmd),
		    "curl -sf -X POST http://127.0.0.1:"
		    "%d/_fake/reset >/dev/null",
		    e.port);
		sh(cmd, "cannot reset fakegraph");
		wall[r] = run_worker(&e, "backup-capture", &pk);
		count_requests(&e, &made[r], &items);
		docs = last_run_documents(&e, state, sizeof(state));
		if (strcmp(state, "succeeded") != 0)
			die("the benchmark capture did not succeed");
		dps[r] = (double)docs / wall[r];
		anon[r] = (double)pk.anon_kb / 1024;
	}
	min = capture_minimum(e.counts, &reads);
	printf("| %-46s | %10.2f s | %d policies, %.0f documents/s |\n",
	    "(m) backup-capture wall time", median(wall, n), policies,
	    median(dps, n));
	snprintf(note, sizeof(note),
	    "minimum %.0f (lists + %.0f per-item "
	    "reads / 20); ratio %.2f (target <= 1.1); %.0f $batch items",
	    min, reads, median(made, n) / min, items);
	printf("| %-46s | %10.0f    | %s |\n", "(m) Graph requests made",
	    median(made, n), note);
	printf("| %-46s | %10.1f MiB | target < 64 MiB |\n",
	    "(m) capture process peak RssAnon", median(anon, n));
	fflush(stdout);
	cJSON_Delete(e.counts);
	kill(e.fake, SIGTERM);
	waitpid(e.fake, NULL, 0);
	remove_env(e.dir);
}
