/*
 * The master: keeps N children alive, forwards signals, reaps, stops.
 */
#ifndef PREFORK_H
#define PREFORK_H

#define PREFORK_MAX_CHILDREN	1024

struct prefork_config {
	int	 children;		/* how many to keep running */
	int	 stop_timeout_sec;	/* grace before SIGKILL on stop */
	void	(*child_main)(void *);	/* never returns */
	void	*child_arg;
};

int	prefork_run(const struct prefork_config *);

#endif
