/*
 * The master: keeps N children alive, forwards signals, reaps, stops,
 * upgrades in place.
 */
#ifndef PREFORK_H
#define PREFORK_H

#include <sys/types.h>

#define PREFORK_MAX_CHILDREN	1024

struct prefork_config {
	int	 children;		/* how many to keep running */
	int	 stop_timeout_sec;	/* grace before SIGKILL on stop */
	int	 listen_fd;		/* handed on by an upgrade */
	void	(*master_init)(void);	/* once, with the handlers in place */
	void	(*child_main)(void *);	/* never returns */
	void	*child_arg;
	/* Children of the image this one replaced (SIGUSR2), if any. */
	const pid_t *old_children;
	int	 nold;
};

int	prefork_run(const struct prefork_config *);
void	prefork_ready(void);

#endif
