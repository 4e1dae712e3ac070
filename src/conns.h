/*
 * The connections a child keeps between requests, and new ones that have
 * sent nothing yet: slots, the lists, room (--max-conns) and timeouts
 * (--idle-timeout, --io-timeout).
 */
#ifndef CONNS_H
#define CONNS_H

#include <stdint.h>

/* The wait-set event of the listening socket (slots are below it). */
#define CONNS_LISTENER		UINT32_MAX
/* conns_keep: kept (for the first time), or -1: closed. */
#define CONNS_KEPT		0
#define CONNS_KEPT_NEW		1

void	conns_init(int, int, int, int);
int	conns_add(int);
int	conns_fd(int);
void	conns_take(int);
void	conns_forget(int);
int	conns_keep(int);
int	conns_wait_silent(int);
int	conns_expire(void);
void	conns_close_kept(void);
int	conns_silent(void);
void	conns_close_all(void);

#endif
