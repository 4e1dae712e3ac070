/*
 * Obtaining the listening socket: bound here (-s ADDRESS), passed by
 * systemd, inherited on fd 0 (spawn-fcgi and the FastCGI convention), or
 * kept across an in-place upgrade.
 */
#ifndef LISTEN_H
#define LISTEN_H

#include <sys/types.h>

/* Connections waiting for a child; spawn-fcgi uses the same default. */
#define LISTEN_BACKLOG	1024

/* How to bind -s: the backlog, and a unix socket's mode and owner. */
struct listen_config {
	int	 backlog;
	mode_t	 mode;
	uid_t	 uid;		/* -1: leave as is */
	gid_t	 gid;
};

int	listen_bind(const char *, const struct listen_config *, int *);
int	listen_systemd(void);
int	listen_inherited(void);
int	listen_adopt(int);
int	listen_is_unix(int);
void	listen_set_nonblocking(int);

#endif
