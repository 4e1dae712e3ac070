/*
 * Obtaining the listening socket: inherited on fd 0 (spawn-fcgi and the
 * FastCGI convention) or bound here to a unix socket path.
 */
#ifndef LISTEN_H
#define LISTEN_H

#include <sys/types.h>

/* Connections waiting for a child; spawn-fcgi uses the same default. */
#define LISTEN_BACKLOG	1024

int	listen_inherited(void);
int	listen_unix(const char *, mode_t, uid_t, gid_t);
void	listen_set_nonblocking(int);

#endif
