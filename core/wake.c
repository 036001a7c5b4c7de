#define _GNU_SOURCE /* SOCK_NONBLOCK, SOCK_CLOEXEC */
#include "wake.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* FNV-1a: a short, stable name for a path; a collision between two
 * stores would only cause spurious wake-ups. */
static uint64_t
name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void
wake_socket_name(struct sockaddr_un *addr, socklen_t *len, const char *kind,
    const char *store_path)
{
	char real[PATH_MAX], data[PATH_MAX + 16];
	struct stat sb;
	uint64_t h;
	int n;

	/* Named after the data file itself (device and inode), so every
	 * path that reaches the store - symlink, bind mount, hard link -
	 * meets the same socket; a path only before the store exists. */
	snprintf(data, sizeof(data), "%s/data.mdb", store_path);
	if (stat(data, &sb) == 0) {
		h = ((uint64_t)sb.st_dev << 40) ^ (uint64_t)sb.st_ino;
	} else {
		if (realpath(store_path, real) == NULL)
			snprintf(real, sizeof(real), "%s", store_path);
		h = name_hash(real);
	}
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	/* sun_path[0] = '\0': the abstract namespace, no file to clean. */
	n = snprintf(addr->sun_path + 1, sizeof(addr->sun_path) - 1,
	    "oprun-%s/%016llx", kind, (unsigned long long)h);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    (size_t)n);
}

void
wake_init(struct wake *w, const char *store_path)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	wake_socket_name(&w->addr, &w->addrlen, "wake", store_path);
}

void
wake_notify(struct wake *w)
{
	if (w->fd < 0)
		w->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
	if (w->fd >= 0)
		(void)sendto(w->fd, "", 0, MSG_DONTWAIT,
		    (struct sockaddr *)&w->addr, w->addrlen);
}

int
wake_listen(struct wake *w, char *err, size_t errlen)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return errf(err, errlen, "wake socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&w->addr, w->addrlen) != 0) {
		errf(err, errlen, "%s", errno == EADDRINUSE ?
		    "another `oprun serve` is already running on this store; "
		    "stop it first" : strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
wake_drain(int fd)
{
	char buf[16];
	int n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

void
wake_close(struct wake *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
