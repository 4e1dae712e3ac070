/*
 * The master: keeps N children alive, forwards signals, reaps, stops,
 * upgrades in place.
 */
#ifndef PREFORK_H
#define PREFORK_H

#include <sys/types.h>

#define PREFORK_MAX_CHILDREN	1024
/* The sigqueue value of the pool's stop: children drain the queue first. */
#define PREFORK_STOP_DRAIN	0x5d7a

struct prefork_config {
	int	 children;		/* how many to keep running */
	int	 stop_timeout_sec;	/* grace before SIGKILL on stop */
	int	 listen_fd;		/* handed on by an upgrade */
	const char *own_path;		/* our unix socket file, or NULL */
	void	(*master_init)(void);	/* once, with the handlers in place */
	void	(*tick)(void);		/* about each second; NULL: none */
	void	(*child_main)(void *);	/* never returns */
	void	*child_arg;
	/* Children of the image this one replaced (SIGUSR2), if any. */
	const pid_t *old_children;
	int	 nold;
};

int	prefork_run(const struct prefork_config *);
void	prefork_ready(void);

#endif
