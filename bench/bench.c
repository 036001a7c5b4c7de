/*
 * bench - `make bench`: the figures of issue 2, each the median of
 * several rounds, printed as a table.
 *
 *   (a) submits/s through submit_run() in one process, durable and
 *       relaxed, beside raw LMDB's commit rate for one put of the same
 *       size per transaction on the same disk, as a ratio
 *   (b) full lifecycle runs/s: submit, then `oprun worker --once` runs
 *       them (claim, instant plugin, finish with notifications)
 *   (c) deduplicated submits/s
 *   (d) median latency of a filtered 50-run page (store_list_runs, what
 *       `oprun runs --tenant T --limit 50` calls) at 10k, 100k and 1M runs
 *   (e) store bytes per run (200-byte payload, run finished)
 *   (f) peak RSS and peak RssAnon of the `oprun worker` process
 *   (g) runs/s of `oprun serve` draining pre-queued instant runs with 1,
 *       2 and 4 executors, relaxed and durable (claim, run, finish with
 *       notifications; the submits are not timed)
 *   (h) submit -> running latency on an idle `oprun serve`
 *   (i) CPU of the idle supervisor and executors
 *   (j) peak RSS and RssAnon of the supervisor and of one executor
 *   (k) Graph GETs/s through the host's client against the fake server
 *       on loopback (keep-alive), and items/s through $batch of 20
 *   (l) the client's overhead per request beyond a bare libcurl loop
 *       against the same server
 *   (m) backup-capture of a generated 2,000-policy tenant against the
 *       fake server (capture.c)
 *
 * Usage: bench --oprun PATH --plugins DIR [--bundled DIR] [--rounds N]
 *              [--quick] [--fakegraph PATH FIXTURE [--only-graph |
 *              --only-capture]]
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <curl/curl.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "graph.h"
#include "runtime.h"
#include "submit.h"

const char *oprun_bin = "build/oprun";
const char *plugin_src = "build/test-plugins";
const char *bundled_src = "build/plugins";
int rounds = 5;
const char *fakegraph_bin, *fakegraph_fixture;
static int only_graph, only_capture;
int quick;

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void
die(const char *what)
{
	fprintf(stderr, "bench: %s\n", what);
	exit(1);
}

/* A fresh directory with a config and a plugin directory. */
static void
make_env_executors(char *dir, size_t len, int durable, int executors)
{
	char cmd[1024], path[600];
	FILE *f;

	snprintf(dir, len, "/tmp/oprun-bench.XXXXXX");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp failed");
	snprintf(cmd, sizeof(cmd), "mkdir -m 755 %s/plugins && install -m 644 "
	    "%s/instant.so %s/items.so %s/plugins/", dir, plugin_src,
	    plugin_src, dir);
	if (system(cmd) != 0)
		die("cannot copy the test plugins");
	snprintf(path, sizeof(path), "%s/oprun.ini", dir);
	f = fopen(path, "w");
	if (f == NULL)
		die("cannot write config");
	fprintf(f, "[store]\npath = store\nmap_size_mb = 65536\n"
	    "durability = %s\n[runner]\nplugin_dir = plugins\nexecutors = %d\n"
	    "[log]\nlevel = warn\n[tenant t0]\n[tenant t1]\n[tenant t2]\n"
	    "[tenant t3]\n", durable ? "full" : "relaxed", executors);
	fclose(f);
}

void
make_env(char *dir, size_t len, int durable)
{
	make_env_executors(dir, len, durable, 2);
}

void
remove_env(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", dir);
}

static void
open_env(struct runtime *rt, const char *dir)
{
	struct diag d = { 0 };
	char cfg[600];

	snprintf(cfg, sizeof(cfg), "%s/oprun.ini", dir);
	if (runtime_open(rt, cfg, RUNTIME_PLUGINS | RUNTIME_STORE, &d) != 0)
		die(d.n ? d.lines[0] : "runtime_open failed");
}

/* A payload of about 200 bytes, unique per (seq, salt). */
static void
payload_200(char *buf, size_t len, unsigned long seq, unsigned long salt)
{
	snprintf(buf, len, "{\"seq\":%lu,\"salt\":%lu,\"policy\":\"device-"
	    "configuration-baseline\",\"note\":\"%0*d\"}", seq, salt,
	    200 - 80, 0);
}

/* Submits n runs; same = one identity.  Returns seconds taken. */
static double
submit_n(struct runtime *rt, unsigned long n, unsigned long salt, int same,
    const char *type)
{
	char payload[512], err[1024];
	double t0 = now_s();

	for (unsigned long i = 0; i < n; i++) {
		struct submit_request req = { .type = type,
			.initiator = "bench", .actor = "bench" };
		struct store_submit_result res;
		char tenant[8];

		snprintf(tenant, sizeof(tenant), "t%lu", i % 4);
		req.tenant = same ? "t0" : tenant;
		payload_200(payload, sizeof(payload), same ? 0 : i, salt);
		req.payload = payload;
		if (submit_run(rt, &req, &res, err, sizeof(err)) != 0)
			die(err);
	}
	return now_s() - t0;
}

/* (a) one round of submits/s for one durability. */
static double
round_submit(int durable, unsigned long n)
{
	struct runtime rt;
	char dir[256];
	double secs;

	make_env(dir, sizeof(dir), durable);
	open_env(&rt, dir);
	secs = submit_n(&rt, n, 1, 0, "test-instant");
	runtime_close(&rt);
	remove_env(dir);
	return (double)n / secs;
}

/* (a) raw LMDB: one put of a run-sized value per transaction, with the
 * flags the store uses for that durability. */
static double
round_raw_lmdb(int durable, unsigned long n)
{
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	char dir[256], value[420];
	double t0;

	make_env(dir, sizeof(dir), durable);
	strcat(dir, "/raw");
	mkdir(dir, 0700);
	memset(value, 'x', sizeof(value));
	if (mdb_env_create(&env) || mdb_env_set_mapsize(env, 1UL << 30) ||
	    mdb_env_open(env, dir, durable ? 0 : MDB_NOSYNC | MDB_WRITEMAP,
	    0600))
		die("raw lmdb open failed");
	t0 = now_s();
	for (unsigned long i = 0; i < n; i++) {
		unsigned char kb[8];
		MDB_val k = { 8, kb }, v = { sizeof(value), value };

		for (int b = 0; b < 8; b++)
			kb[b] = (unsigned char)(i >> (56 - 8 * b));
		if (mdb_txn_begin(env, NULL, 0, &txn) ||
		    mdb_dbi_open(txn, NULL, 0, &dbi) ||
		    mdb_put(txn, dbi, &k, &v, 0) || mdb_txn_commit(txn))
			die("raw lmdb put failed");
	}
	t0 = now_s() - t0;
	mdb_env_close(env);
	dir[strlen(dir) - 4] = '\0';
	remove_env(dir);
	return (double)n / t0;
}

/* (a) raw LMDB again, but each transaction writes what a submit writes:
 * the run, its queue entry, its identity row, four index rows, a
 * notification and the id counter, in six named databases. */
static double
round_raw_rows(int durable, unsigned long n)
{
	static const char *const names[6] = { "meta", "runs", "queue",
		"active", "index", "notif" };
	MDB_env *env;
	MDB_dbi dbi[6];
	MDB_txn *txn;
	char dir[256], value[420], note[60];
	double t0;

	make_env(dir, sizeof(dir), durable);
	strcat(dir, "/raw");
	mkdir(dir, 0700);
	memset(value, 'x', sizeof(value));
	memset(note, 'n', sizeof(note));
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
	    mdb_env_set_mapsize(env, 1UL << 30) ||
	    mdb_env_open(env, dir, durable ? 0 : MDB_NOSYNC | MDB_WRITEMAP,
	    0600) || mdb_txn_begin(env, NULL, 0, &txn))
		die("raw lmdb open failed");
	for (int d = 0; d < 6; d++)
		if (mdb_dbi_open(txn, names[d], MDB_CREATE, &dbi[d]))
			die("raw lmdb dbi failed");
	if (mdb_txn_commit(txn))
		die("raw lmdb commit failed");
	t0 = now_s();
	for (unsigned long i = 0; i < n; i++) {
		unsigned char kb[8], hash[32], ik[32];
		MDB_val k = { 8, kb }, v = { sizeof(value), value }, e = { 0, "" };
		MDB_val hk = { 32, hash }, iv = { 8, kb }, nk, nv = { 60, note };
		MDB_val mk = { 7, "next_id" }, mv = { 8, kb };
		int rc;

		for (int b = 0; b < 8; b++)
			kb[b] = (unsigned char)(i >> (56 - 8 * b));
		for (int b = 0; b < 32; b++)
			hash[b] = (unsigned char)((i * 2654435761u) >> (b % 24));
		rc = mdb_txn_begin(env, NULL, 0, &txn);
		rc = rc ? rc : mdb_put(txn, dbi[0], &mk, &mv, 0);
		rc = rc ? rc : mdb_put(txn, dbi[1], &k, &v, 0);
		rc = rc ? rc : mdb_put(txn, dbi[2], &k, &e, 0);
		rc = rc ? rc : mdb_put(txn, dbi[3], &hk, &iv, 0);
		for (int x = 0; x < 4 && rc == 0; x++) {
			MDB_val xk = { 0, ik };

			ik[0] = "tyis"[x];
			memcpy(ik + 1, "value\0", 6);
			memcpy(ik + 7, kb, 8);
			xk.mv_size = 15;
			rc = mdb_put(txn, dbi[4], &xk, &e, 0);
		}
		memcpy(ik, "bench\0", 6);
		memcpy(ik + 6, kb, 8);
		nk.mv_size = 14;
		nk.mv_data = ik;
		rc = rc ? rc : mdb_put(txn, dbi[5], &nk, &nv, 0);
		if (rc || mdb_txn_commit(txn))
			die("raw lmdb rows failed");
	}
	t0 = now_s() - t0;
	mdb_env_close(env);
	dir[strlen(dir) - 4] = '\0';
	remove_env(dir);
	return (double)n / t0;
}

static long
status_kb(const char *status, const char *field)
{
	const char *p = strstr(status, field);

	return p != NULL ? strtol(p + strlen(field), NULL, 10) : 0;
}

/* Samples /proc/pid/status until the process exits. */
int
watch_process(pid_t pid, struct peak_mem *pk)
{
	struct timespec pause = { 0, 2 * 1000 * 1000 };
	char path[64], buf[4096];
	int status = 0;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	for (;;) {
		FILE *f = fopen(path, "r");

		if (f != NULL) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			long anon, hwm;

			buf[n] = '\0';
			fclose(f);
			anon = status_kb(buf, "RssAnon:");
			hwm = status_kb(buf, "VmHWM:");
			if (anon > pk->anon_kb)
				pk->anon_kb = anon;
			if (hwm > pk->rss_kb)
				pk->rss_kb = hwm;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		nanosleep(&pause, NULL);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* (b)+(f): submit n, then time `oprun worker --once` draining them. */
static double
round_lifecycle(unsigned long n, struct peak_mem *pk, double *bytes_per_run)
{
	struct runtime rt;
	char dir[256], cfg[600];
	double t_submit, t0;
	uint64_t used = 0;
	pid_t pid;

	make_env(dir, sizeof(dir), 0);
	open_env(&rt, dir);
	t_submit = submit_n(&rt, n, 2, 0, "test-instant");
	runtime_close(&rt);
	snprintf(cfg, sizeof(cfg), "%s/oprun.ini", dir);
	t0 = now_s();
	pid = fork();
	if (pid == 0) {
		execl(oprun_bin, oprun_bin, "-c", cfg, "worker", "--once",
		    (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || watch_process(pid, pk) != 0)
		die("oprun worker failed");
	t0 = now_s() - t0;
	open_env(&rt, dir);
	store_bytes_used(rt.st, &used);
	runtime_close(&rt);
	*bytes_per_run = (double)used / (double)n;
	remove_env(dir);
	return (double)n / (t_submit + t0);
}

/* (c) deduplicated submits/s: one identity, active the whole time. */
static double
round_dedupe(unsigned long n)
{
	struct runtime rt;
	char dir[256];
	double secs;

	make_env(dir, sizeof(dir), 0);
	open_env(&rt, dir);
	submit_n(&rt, 1, 3, 1, "test-instant");
	secs = submit_n(&rt, n, 3, 1, "test-instant");
	runtime_close(&rt);
	remove_env(dir);
	return (double)n / secs;
}

/* (d) median latency (us) of a 50-run page filtered by tenant. */
static double
page_latency_us(struct runtime *rt, unsigned long total)
{
	double v[201];
	int samples = 201;

	for (int i = 0; i < samples; i++) {
		struct run_filter f = { .tenant = "t2", .limit = 50 };
		struct run *runs;
		size_t n;
		char err[256];
		double t0;

		/* Pages from the newest and from random older places. */
		if (i % 2)
			f.before_id = 1 + (uint64_t)rand() % total;
		t0 = now_s();
		if (store_list_runs(rt->st, &f, &runs, &n, err,
		    sizeof(err)) != 0)
			die(err);
		v[i] = (now_s() - t0) * 1e6;
		store_runs_free(runs, n);
	}
	return median(v, samples);
}

static void
bench_listing(void)
{
	unsigned long steps[3] = { 10000, 100000, 1000000 }, have = 0;
	struct runtime rt;
	char dir[256];

	if (quick)
		steps[2] = 200000;
	make_env(dir, sizeof(dir), 0);
	open_env(&rt, dir);
	for (int s = 0; s < 3; s++) {
		submit_n(&rt, steps[s] - have, 4 + (unsigned long)s, 0,
		    "test-instant");
		have = steps[s];
		printf("| (d) runs page, --tenant, limit 50, %7lu runs | %10.1f "
		    "us | target < 1000 us, flat |\n", have,
		    page_latency_us(&rt, have));
		fflush(stdout);
	}
	runtime_close(&rt);
	remove_env(dir);
}

void
row(const char *name, double *v, const char *unit, const char *note)
{
	printf("| %-46s | %10.0f %s | %s |\n", name, median(v, rounds), unit,
	    note);
	fflush(stdout);
}

/* ---- oprun serve: (g) throughput, (h) latency, (i) idle CPU, (j) memory */

static pid_t
start_serve(const char *dir)
{
	char cfg[600];
	pid_t pid;

	snprintf(cfg, sizeof(cfg), "%s/oprun.ini", dir);
	pid = fork();
	if (pid == 0) {
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execl(oprun_bin, oprun_bin, "-c", cfg, "serve", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void
stop_serve(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}

static int
store_busy(struct runtime *rt)
{
	struct run_filter f = { .has_state = 1, .state = RUN_QUEUED,
		.limit = 1 };
	struct run *runs;
	size_t n, total;
	char err[256];

	if (store_list_runs(rt->st, &f, &runs, &n, err, sizeof(err)) != 0)
		die(err);
	store_runs_free(runs, n);
	total = n;
	f.state = RUN_RUNNING;
	if (store_list_runs(rt->st, &f, &runs, &n, err, sizeof(err)) != 0)
		die(err);
	store_runs_free(runs, n);
	return total + n > 0;
}

/* Pids of pid's children (the executors). */
static int
children_of(pid_t parent, pid_t *out, int max)
{
	char cmd[128], line[64];
	int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "pgrep -P %ld", (long)parent);
	if ((p = popen(cmd, "r")) == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), p) != NULL)
		out[n++] = (pid_t)atol(line);
	pclose(p);
	return n;
}

static void
sample_mem(pid_t pid, struct peak_mem *pk)
{
	char path[64], buf[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	if (status_kb(buf, "RssAnon:") > pk->anon_kb)
		pk->anon_kb = status_kb(buf, "RssAnon:");
	if (status_kb(buf, "VmHWM:") > pk->rss_kb)
		pk->rss_kb = status_kb(buf, "VmHWM:");
}

/* Seconds from the first claim to the last finish of runs 1..n, from
 * the runs' own timestamps: the executors' start-up is not counted. */
static double
drain_seconds(struct runtime *rt, unsigned long n)
{
	int64_t first = INT64_MAX, last = 0;
	char err[256];

	for (uint64_t id = 1; id <= n; id++) {
		struct run r;

		if (id > 16 && id + 64 < n)
			continue; /* claimed oldest first: ends suffice */
		if (store_get_run(rt->st, id, &r, err, sizeof(err)) != 0)
			die(err);
		if (r.started_at != 0 && r.started_at < first)
			first = r.started_at;
		if (r.finished_at > last)
			last = r.finished_at;
		run_free(&r);
	}
	return (double)(last - first + 1) / 1e3;
}

/* (g)+(j): runs/s of serve draining n pre-queued instant runs. */
static double
round_serve(int executors, int durable, unsigned long n,
    struct peak_mem *sup, struct peak_mem *exe)
{
	struct timespec pause = { 0, 2 * 1000 * 1000 };
	struct runtime rt;
	char dir[256];
	double t0, secs;
	pid_t pid, kids[8];

	make_env_executors(dir, sizeof(dir), durable, executors);
	open_env(&rt, dir);
	submit_n(&rt, n, 5, 0, "test-instant");
	t0 = now_s();
	pid = start_serve(dir);
	while (store_busy(&rt)) {
		int k = children_of(pid, kids, 8);

		sample_mem(pid, sup);
		if (k > 0)
			sample_mem(kids[0], exe);
		nanosleep(&pause, NULL);
	}
	secs = drain_seconds(&rt, n);
	(void)t0;
	stop_serve(pid);
	runtime_close(&rt);
	remove_env(dir);
	return (double)n / secs;
}

static long
cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	/* Fields 14 and 15 (utime, stime) after the command name. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu "
	    "%lu", &ut, &st) != 2)
		return 0;
	return (long)(ut + st);
}

/* (h) submit -> running latency on an idle runner, (i) idle CPU. */
static void
bench_serve_latency(void)
{
	struct timespec pause = { 0, 100 * 1000 }, gap = { 0, 20000000 };
	double lat[200], idle_s = quick ? 3 : 10;
	struct runtime rt;
	char dir[256], err[256];
	pid_t pid, kids[8];
	long before = 0, after = 0;
	int k, samples = quick ? 50 : 200;

	make_env(dir, sizeof(dir), 0);
	open_env(&rt, dir);
	pid = start_serve(dir);
	sleep(1);
	for (int i = 0; i < samples; i++) {
		struct submit_request req = { .type = "test-instant",
			.tenant = "t0", .initiator = "bench", .actor = "bench" };
		struct store_submit_result res;
		char payload[64];
		double t0;
		struct run r;

		snprintf(payload, sizeof(payload), "{\"lat\":%d}", i);
		req.payload = payload;
		t0 = now_s();
		if (submit_run(&rt, &req, &res, err, sizeof(err)) != 0)
			die(err);
		for (int spin = 0; spin < 50000; spin++) {
			int started;

			if (store_get_run(rt.st, res.id, &r, err,
			    sizeof(err)) != 0)
				die(err);
			started = r.state != RUN_QUEUED;
			run_free(&r);
			if (started)
				break;
			nanosleep(&pause, NULL);
		}
		lat[i] = (now_s() - t0) * 1e3;
		nanosleep(&gap, NULL);
	}
	qsort(lat, (size_t)samples, sizeof(double), cmp_double);
	printf("| %-46s | %10.2f ms | p99 %.2f ms; target median < 5 ms |\n",
	    "(h) submit -> running, idle runner, median", lat[samples / 2],
	    lat[samples * 99 / 100]);
	sleep(1);
	k = children_of(pid, kids, 8);
	before = cpu_ticks(pid);
	for (int i = 0; i < k; i++)
		before += cpu_ticks(kids[i]);
	{
		struct timespec idle = { (time_t)idle_s, 0 };

		nanosleep(&idle, NULL);
	}
	after = cpu_ticks(pid);
	for (int i = 0; i < k; i++)
		after += cpu_ticks(kids[i]);
	printf("| %-46s | %10.3f %% | %d processes over %.0f s; target < 1 %% |\n",
	    "(i) idle CPU, supervisor + executors", 100.0 *
	    (double)(after - before) / (double)sysconf(_SC_CLK_TCK) / idle_s,
	    k + 1, idle_s);
	fflush(stdout);
	stop_serve(pid);
	runtime_close(&rt);
	remove_env(dir);
}

static void
bench_serve(void)
{
	static const int execs[3] = { 1, 2, 4 };
	struct peak_mem sup = { 0, 0 }, exe = { 0, 0 };
	double v[16], ref[16];
	char name[80], note[160];

	for (int d = 0; d < 2; d++) {
		unsigned long n = d ? (quick ? 500 : 3000) :
		    (quick ? 5000 : 30000);

		for (int e = 0; e < 3; e++) {
			for (int r = 0; r < rounds; r++) {
				v[r] = round_serve(execs[e], d, n, &sup, &exe);
				if (d && e == 1)
					ref[r] = round_raw_lmdb(1, 500);
			}
			snprintf(name, sizeof(name), "(g) serve runs/s, %s, %d "
			    "executor%s", d ? "durable" : "relaxed", execs[e],
			    execs[e] > 1 ? "s" : "");
			if (d && e == 1)
				snprintf(note, sizeof(note), "one durable LMDB "
				    "txn: %.0f/s, ratio %.2f; target >= 3000/s",
				    median(ref, rounds), median(v, rounds) /
				    median(ref, rounds));
			else
				snprintf(note, sizeof(note), "%s",
				    !d && e == 1 ? "target >= 20000/s" : "");
			row(name, v, "/s", note);
		}
	}
	printf("| %-46s | %10.1f MiB | RssAnon %.1f MiB (target < 16 MiB) |\n",
	    "(j) supervisor peak RSS", (double)sup.rss_kb / 1024,
	    (double)sup.anon_kb / 1024);
	printf("| %-46s | %10.1f MiB | RssAnon %.1f MiB (target < 16 MiB) |\n",
	    "(j) one executor peak RSS", (double)exe.rss_kb / 1024,
	    (double)exe.anon_kb / 1024);
	bench_serve_latency();
}

/* ---- Graph client: (k) GETs/s, (l) overhead over bare libcurl -------- */

pid_t
start_fakegraph(const char *dir, const char *fixture_path, int *port)
{
	char fixture[600], portfile[600], buf[32];
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	pid_t pid;

	snprintf(fixture, sizeof(fixture), "%s", fixture_path);
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	pid = fork();
	if (pid == 0) {
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execl(fakegraph_bin, fakegraph_bin, "--fixture", fixture,
		    "--port-file", portfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 250; i++) {
		FILE *f = fopen(portfile, "r");

		if (f != NULL && fgets(buf, sizeof(buf), f) != NULL) {
			fclose(f);
			*port = atoi(buf);
			return pid;
		}
		if (f != NULL)
			fclose(f);
		nanosleep(&pause, NULL);
	}
	die("fakegraph did not start");
	return -1;
}

void
graph_env(const char *dir, int port)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/secret", dir);
	if ((f = fopen(path, "w")) == NULL)
		die("cannot write secret");
	fputs("contoso-backup-secret\n", f);
	fclose(f);
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/oprun.ini", dir);
	if ((f = fopen(path, "a")) == NULL)
		die("cannot extend config");
	fprintf(f, "[graph]\nbase_url = http://127.0.0.1:%d\nlogin_url = "
	    "http://127.0.0.1:%d\n[tenant contoso]\ntenant_id = "
	    "11111111-1111-1111-1111-111111111111\nclient_id = "
	    "cc8deddb-5e43-5299-91ab-b0c218b4b0c2\nclient_secret_file = "
	    "secret\n", port, port);
	fclose(f);
}

#define GRAPH_PATH "/v1.0/groups?$top=1"

/* Empties the fake server's request log, which grows with every request
 * and would slow later loops down. */
static void
reset_fakegraph(int port)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "curl -sf -X POST http://127.0.0.1:%d/"
	    "_fake/reset >/dev/null", port);
	if (system(cmd) != 0)
		die("cannot reset fakegraph");
}

/* Seconds for n GETs through the host's client (token cached). */
static double
client_gets(struct graph_client *gc, int n)
{
	struct graph_call call = { .tenant = "contoso",
		.wait_budget_ms = INT64_MAX / 2 };
	struct graph_response resp;
	double t0 = now_s();

	for (int i = 0; i < n; i++) {
		if (graph_request(gc, &call, "GET", GRAPH_PATH, NULL, NULL,
		    &resp) != 0 || resp.status != 200)
			die(resp.error);
		graph_response_free(&resp);
	}
	return now_s() - t0;
}

/* Items/s through graph_batch, 20 GETs a batch. */
static double
client_batch(struct graph_client *gc, int batches)
{
	struct graph_call call = { .tenant = "contoso",
		.wait_budget_ms = INT64_MAX / 2 };
	struct graph_response resp;
	char reqs[4096];
	size_t off = 0;
	double t0;

	off += (size_t)snprintf(reqs, sizeof(reqs), "[");
	for (int i = 0; i < 20; i++)
		off += (size_t)snprintf(reqs + off, sizeof(reqs) - off,
		    "%s{\"id\":\"%d\",\"method\":\"GET\",\"url\":"
		    "\"/groups?$top=1\"}", i ? "," : "", i);
	snprintf(reqs + off, sizeof(reqs) - off, "]");
	t0 = now_s();
	for (int i = 0; i < batches; i++) {
		if (graph_batch(gc, &call, "v1.0", reqs, &resp) != 0)
			die(resp.error);
		graph_response_free(&resp);
	}
	return (double)batches * 20 / (now_s() - t0);
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* Seconds for n GETs by a bare libcurl loop: one handle, same headers. */
static double
bare_gets(int port, const char *token, int n)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[256], auth[4200];
	double t0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, GRAPH_PATH);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		long status = 0;

		if (curl_easy_perform(c) != CURLE_OK)
			die("bare libcurl GET failed");
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200)
			die("bare libcurl GET: not 200");
	}
	t0 = now_s() - t0;
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return t0;
}

/* An app token from the fake server, for the bare loop. */
static void
fetch_bench_token(int port, char *out, size_t len)
{
	char cmd[1024];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "curl -s -X POST http://127.0.0.1:%d/"
	    "11111111-1111-1111-1111-111111111111/oauth2/v2.0/token -d "
	    "'client_id=cc8deddb-5e43-5299-91ab-b0c218b4b0c2&client_secret="
	    "contoso-backup-secret&grant_type=client_credentials&scope="
	    "https%%3A%%2F%%2Fgraph.microsoft.com%%2F.default' | python3 -c "
	    "'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'",
	    port);
	if ((p = popen(cmd, "r")) == NULL || fgets(out, (int)len, p) == NULL)
		die("cannot get a token from fakegraph");
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

static void
bench_graph(void)
{
	double gets[16], batch[16], over[16];
	int n = quick ? 500 : 3000, port;
	struct graph_client *gc;
	struct runtime rt;
	char dir[256], err[256], token[4096];
	pid_t pid;

	if (fakegraph_bin == NULL)
		return;
	make_env(dir, sizeof(dir), 0);
	pid = start_fakegraph(dir, fakegraph_fixture, &port);
	graph_env(dir, port);
	open_env(&rt, dir);
	if (graph_client_open(&gc, &rt.cfg, err, sizeof(err)) != 0)
		die(err);
	fetch_bench_token(port, token, sizeof(token));
	client_gets(gc, 50); /* warm: token, connection */
	for (int r = 0; r < rounds; r++) {
		double t_client, t_bare;

		reset_fakegraph(port);
		t_client = client_gets(gc, n);
		reset_fakegraph(port);
		t_bare = bare_gets(port, token, n);
		gets[r] = n / t_client;
		over[r] = (t_client - t_bare) / n * 1e6;
		reset_fakegraph(port);
		batch[r] = client_batch(gc, n / 20);
	}
	row("(k) Graph GETs/s, host client, keep-alive", gets, "/s",
	    "one connection, fake server on loopback");
	row("(k) Graph GETs/s through $batch of 20", batch, "/s",
	    "items per second");
	printf("| %-46s | %10.1f us | target < 50 us |\n",
	    "(l) client overhead per request vs bare libcurl",
	    median(over, rounds));
	fflush(stdout);
	graph_client_close(gc);
	runtime_close(&rt);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	remove_env(dir);
}

int
main(int argc, char **argv)
{
	double dur[16], rel[16], raw_dur[16], raw_rel[16], life[16], ded[16];
	double rows_dur[16];
	double bpr[16], rss[16], anon[16];
	unsigned long n_dur = 1000, n_rel = 50000;
	char note[128];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--oprun") == 0 && i + 1 < argc)
			oprun_bin = argv[++i];
		else if (strcmp(argv[i], "--plugins") == 0 && i + 1 < argc)
			plugin_src = argv[++i];
		else if (strcmp(argv[i], "--bundled") == 0 && i + 1 < argc)
			bundled_src = argv[++i];
		else if (strcmp(argv[i], "--only-capture") == 0)
			only_capture = 1;
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else if (strcmp(argv[i], "--only-graph") == 0)
			only_graph = 1;
		else if (strcmp(argv[i], "--fakegraph") == 0 && i + 2 < argc) {
			fakegraph_bin = argv[++i];
			fakegraph_fixture = argv[++i];
		}
	}
	if (rounds < 1 || rounds > 16)
		die("--rounds must be 1 to 16");
	if (quick)
		n_rel = 10000;
	printf("oprun bench: medians of %d rounds\n\n", rounds);
	printf("| figure | median | target / note |\n|---|---|---|\n");
	if (only_graph) {
		bench_graph();
		return 0;
	}
	if (only_capture) {
		bench_capture();
		return 0;
	}
	for (int r = 0; r < rounds; r++) {
		struct peak_mem pk = { 0, 0 };

		dur[r] = round_submit(1, n_dur);
		raw_dur[r] = round_raw_lmdb(1, n_dur);
		rows_dur[r] = round_raw_rows(1, n_dur);
		rel[r] = round_submit(0, n_rel);
		raw_rel[r] = round_raw_lmdb(0, n_rel);
		life[r] = round_lifecycle(n_rel, &pk, &bpr[r]);
		ded[r] = round_dedupe(n_rel);
		rss[r] = (double)pk.rss_kb / 1024;
		anon[r] = (double)pk.anon_kb / 1024;
	}
	snprintf(note, sizeof(note), "raw LMDB %.0f/s; ratio %.2f (target "
	    ">= 0.8)", median(raw_dur, rounds),
	    median(dur, rounds) / median(raw_dur, rounds));
	row("(a) submits/s, durable", dur, "/s", note);
	snprintf(note, sizeof(note), "raw LMDB writing a submit's 10 rows "
	    "per txn: %.0f/s; ratio %.2f", median(rows_dur, rounds),
	    median(dur, rounds) / median(rows_dur, rounds));
	row("(a) submits/s, durable, vs the same rows", dur, "/s", note);
	snprintf(note, sizeof(note), "raw LMDB %.0f/s; ratio %.2f; target "
	    ">= 50000/s", median(raw_rel, rounds),
	    median(rel, rounds) / median(raw_rel, rounds));
	row("(a) submits/s, relaxed", rel, "/s", note);
	row("(b) lifecycle runs/s via oprun worker, relaxed", life, "/s",
	    "target >= 15000/s");
	row("(c) deduplicated submits/s, relaxed", ded, "/s",
	    "target >= relaxed (a)");
	row("(e) store bytes per run (200-byte payload)", bpr, "B ",
	    "target < 1536 B");
	printf("| %-46s | %10.1f MiB | RssAnon %.1f MiB (target < 16 MiB) |\n",
	    "(f) oprun worker peak RSS", median(rss, rounds),
	    median(anon, rounds));
	bench_listing();
	bench_serve();
	bench_graph();
	bench_capture();
	return 0;
}
