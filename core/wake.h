/*
 * wake - tells `oprun serve` that a run was queued, from any process,
 * so idle executors start it within milliseconds without polling.
 *
 * The supervisor binds an abstract-namespace UNIX datagram socket named
 * after the store's data file (its device and inode, whatever the path); submitters send it one empty datagram,
 * best effort (nobody listening is fine: the run waits in the queue).
 * Binding doubles as a lock: a second `oprun serve` on the same store
 * fails to bind and refuses to start.
 */
#ifndef OPRUN_WAKE_H
#define OPRUN_WAKE_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

struct wake {
	int fd;			/* -1 until first used */
	struct sockaddr_un addr;
	socklen_t addrlen;
};

/* Names the socket of the store at store_path (which must exist). */
void	wake_init(struct wake *w, const char *store_path);
/* Fills addr with the abstract socket name KIND/<device and inode of
 * the store's data.mdb>; the wake and the control sockets share this naming. */
void	wake_socket_name(struct sockaddr_un *addr, socklen_t *len,
	    const char *kind, const char *store_path);
/* Sends one wake-up; never blocks, never fails loudly. */
void	wake_notify(struct wake *w);
/* Binds the socket for the supervisor.  Returns the non-blocking fd, or
 * -1 with a reason (another supervisor holds it) in err. */
int	wake_listen(struct wake *w, char *err, size_t errlen);
/* Reads every pending datagram; returns how many there were. */
int	wake_drain(int fd);
void	wake_close(struct wake *w);

#endif
