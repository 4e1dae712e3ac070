/*
 * A child: one static context, the accept loop, one request at a time.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stddef.h>

struct allow_list;

struct worker_config {
	int	 listen_fd;
	size_t	 max_body;	/* -m: longest body served, in bytes */
	int	 ascii;		/* --ascii: map a-z only */
	const struct allow_list *allow;	/* -A; NULL: every peer */
	int	 io_timeout_sec; /* --io-timeout; 0: none */
	long	 max_requests;	/* -r: exit after this many; 0: never */
	void	(*ready)(void);	/* called once the context is built */
	long long drain_ms;	/* on the pool's stop, serve the queue this long */
	int	 max_conns;	/* --max-conns: kept connections at most */
	int	 idle_timeout_sec; /* --idle-timeout; 0: none */
	int	 sandbox;	/* enter the seccomp sandbox; --no-sandbox: 0 */
	const char *status_path; /* --status-path; NULL: no status page */
};

void	worker_preinit(void);
void	worker_init(const struct worker_config *);
int	worker_once(void);
void	worker_main(void *) __attribute__((noreturn));

#endif
