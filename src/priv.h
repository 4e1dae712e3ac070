/*
 * Dropping root: look up the user and group, then give up root for good.
 */
#ifndef PRIV_H
#define PRIV_H

#include <sys/types.h>

struct priv_ids {
	uid_t	 uid;		/* (uid_t)-1: not given */
	gid_t	 gid;		/* (gid_t)-1: not given */
};

void	priv_lookup(const char *, const char *, struct priv_ids *);
void	priv_check(const struct priv_ids *);
void	priv_drop(const struct priv_ids *);

#endif
