/*
 * fakegraph - a fake Microsoft Graph and Entra ID token server for the
 * end-to-end tests.
 *
 *   fakegraph --fixture FILE [--port-file PATH] [--port N]
 *
 * Listens on 127.0.0.1 only (port 0, the default, picks a free one),
 * writes the port to PATH once it is listening, and serves until SIGTERM
 * or SIGINT, then exits 0.  Nothing is printed on stdout; errors go to
 * stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include "fakegraph.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

struct args {
	const char *fixture;
	const char *port_file;
	long port;
};

int64_t
server_now_ms(const struct server *s)
{
	return now_ms() + s->clock_offset_ms;
}

static int
usage(void)
{
	fprintf(stderr, "usage: fakegraph --fixture FILE [--port-file PATH] "
	    "[--port N]\n");
	return -1;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--fixture") == 0)
			a->fixture = argv[++i];
		else if (strcmp(argv[i], "--port-file") == 0)
			a->port_file = argv[++i];
		else if (strcmp(argv[i], "--port") == 0) {
			if (parse_long(argv[++i], 0, 65535, &a->port) != 0)
				return usage();
		} else
			return usage();
	}
	return a->fixture != NULL ? 0 : usage();
}

/* A listening TCP socket on 127.0.0.1:port; the bound port in *bound.
 * Binding here rather than in libmicrohttpd means the port (and so the
 * base URL of every nextLink) is known before the first request. */
static int
listen_loopback(long port, unsigned *bound)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1, saved;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 128) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

/* Written to a temp name and renamed, so a test polling for the file
 * never reads half a number. */
static int
write_port_file(const char *path, unsigned port)
{
	struct buf tmp = {0};
	FILE *f;
	int rc = -1;

	buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	if ((f = fopen(tmp.p, "w")) == NULL)
		goto out_free;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp.p, path) != 0) {
		unlink(tmp.p);
		goto out_free;
	}
	rc = 0;
out_free:
	free(tmp.p);
	return rc;
}

static void
server_free(struct server *s)
{
	data_free(s);
	auth_free(s);
	faults_clear(s);
	throttle_clear(s);
	cJSON_Delete(s->log);
	s->log = NULL;
}

/* Starts serving on fd and waits for SIGTERM or SIGINT. */
static int
serve(struct server *s, int fd, const struct args *a, const sigset_t *set)
{
	struct MHD_Daemon *d;
	char err[256];
	int sig;

	if ((d = http_start(s, fd, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fakegraph: %s\n", err);
		close(fd);
		return 1;
	}
	if (a->port_file != NULL && write_port_file(a->port_file,
	    s->port) != 0) {
		fprintf(stderr, "fakegraph: cannot write %s: %s\n",
		    a->port_file, strerror(errno));
		MHD_stop_daemon(d);
		return 1;
	}
	while (sigwait(set, &sig) != 0)
		continue;
	/* MHD_stop_daemon joins the polling thread and closes fd. */
	MHD_stop_daemon(d);
	return 0;
}

int
main(int argc, char **argv)
{
	struct server s;
	struct args a;
	sigset_t set;
	char err[512];
	int fd, rc = 1;

	memset(&s, 0, sizeof(s));
	s.start_us = monotonic_us();
	if (parse_args(argc, argv, &a) != 0)
		return 2;
	if (data_load(&s, a.fixture, err, sizeof(err)) != 0) {
		fprintf(stderr, "fakegraph: %s\n", err);
		goto out_free;
	}
	s.log = cJSON_CreateArray();
	random_bytes(s.hmac_key, sizeof(s.hmac_key));
	/* Blocked before the polling thread exists, so it inherits the mask
	 * and only sigwait below ever sees these signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((fd = listen_loopback(a.port, &s.port)) == -1) {
		fprintf(stderr, "fakegraph: cannot listen on 127.0.0.1:%ld: "
		    "%s\n", a.port, strerror(errno));
		goto out_free;
	}
	snprintf(s.base_url, sizeof(s.base_url), "http://127.0.0.1:%u",
	    s.port);
	rc = serve(&s, fd, &a, &set);
out_free:
	server_free(&s);
	return rc;
}
