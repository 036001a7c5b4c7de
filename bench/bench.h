/*
 * bench - what the files of `make bench` share: options, the table's
 * rows, scratch environments, processes and the fake Graph server.
 */
#ifndef OPRUN_BENCH_H
#define OPRUN_BENCH_H

#include <stddef.h>
#include <sys/types.h>

extern const char *oprun_bin, *plugin_src, *bundled_src;
extern const char *fakegraph_bin, *fakegraph_fixture;
extern int rounds, quick;

struct peak_mem {
	long rss_kb, anon_kb;
};

double now_s(void);
double median(double *v, int n);
void die(const char *what) __attribute__((noreturn));
/* A fresh /tmp directory with oprun.ini and plugins/ (instant, items). */
void make_env(char *dir, size_t len, int durable);
void remove_env(const char *dir);
/* One table row: the median of v over the rounds. */
void row(const char *name, double *v, const char *unit, const char *note);
/* Samples pid's VmHWM and RssAnon until it exits; its exit status. */
int watch_process(pid_t pid, struct peak_mem *pk);
/* Starts fakegraph on fixture, port written under dir. */
pid_t start_fakegraph(const char *dir, const char *fixture, int *port);
/* Appends [graph] and [tenant contoso] (its app secret) to dir's config. */
void graph_env(const char *dir, int port);

/* (m) capture.c */
void bench_capture(void);

#endif
