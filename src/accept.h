/*
 * A child's accept step: accept4, the allowlist, the connection's I/O
 * timeout, rate-limited log lines.
 */
#ifndef ACCEPT_H
#define ACCEPT_H

struct allow_list;

struct accept_config {
	int			 listen_fd;	/* non-blocking */
	const struct allow_list	*allow;		/* NULL or empty: everybody */
	int			 io_timeout_sec; /* 0: wait for ever */
};

/* accept_next: nothing is waiting on the listening socket. */
#define ACCEPT_NONE	(-2)

void	accept_share_log(void);
void	accept_init(const struct accept_config *);
int	accept_next(void);
void	accept_kept(int);
int	accept_has_bytes(int);

#endif
