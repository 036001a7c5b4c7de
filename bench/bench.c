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
 *
 * Usage: bench --oprun PATH --plugins DIR [--rounds N] [--quick]
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"
#include "submit.h"

static const char *oprun_bin = "build/oprun";
static const char *plugin_src = "build/test-plugins";
static int rounds = 5;
static int quick;

static double
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

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench: %s\n", what);
	exit(1);
}

/* A fresh directory with a config and a plugin directory. */
static void
make_env(char *dir, size_t len, int durable)
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
	    "durability = %s\n[runner]\nplugin_dir = plugins\n[log]\n"
	    "level = warn\n[tenant t0]\n[tenant t1]\n[tenant t2]\n"
	    "[tenant t3]\n", durable ? "full" : "relaxed");
	fclose(f);
}

static void
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

struct peak_mem {
	long rss_kb, anon_kb;
};

static long
status_kb(const char *status, const char *field)
{
	const char *p = strstr(status, field);

	return p != NULL ? strtol(p + strlen(field), NULL, 10) : 0;
}

/* Samples /proc/pid/status until the process exits. */
static int
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

static void
row(const char *name, double *v, const char *unit, const char *note)
{
	printf("| %-46s | %10.0f %s | %s |\n", name, median(v, rounds), unit,
	    note);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	double dur[16], rel[16], raw_dur[16], raw_rel[16], life[16], ded[16];
	double bpr[16], rss[16], anon[16];
	unsigned long n_dur = 1000, n_rel = 50000;
	char note[128];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--oprun") == 0 && i + 1 < argc)
			oprun_bin = argv[++i];
		else if (strcmp(argv[i], "--plugins") == 0 && i + 1 < argc)
			plugin_src = argv[++i];
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
	}
	if (rounds < 1 || rounds > 16)
		die("--rounds must be 1 to 16");
	if (quick)
		n_rel = 10000;
	printf("oprun bench: medians of %d rounds\n\n", rounds);
	printf("| figure | median | target / note |\n|---|---|---|\n");
	for (int r = 0; r < rounds; r++) {
		struct peak_mem pk = { 0, 0 };

		dur[r] = round_submit(1, n_dur);
		raw_dur[r] = round_raw_lmdb(1, n_dur);
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
	return 0;
}
