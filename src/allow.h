/*
 * The peer allowlist (-A, FCGI_WEB_SERVER_ADDRS): which TCP peers may
 * talk to the worker.  Pure: parsing and matching, no I/O.
 */
#ifndef ALLOW_H
#define ALLOW_H

#include <sys/types.h>
#include <sys/socket.h>

#define ALLOW_MAX_ENTRIES	64

/* One entry: an address and how many leading bits must match. */
struct allow_entry {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network byte order */
	int		 prefix_bits;
};

struct allow_list {
	struct allow_entry	 entry[ALLOW_MAX_ENTRIES];
	int			 n;		/* 0: everybody is allowed */
};

int	allow_parse(const char *, struct allow_list *, char *, size_t);
int	allow_match(const struct allow_list *, const struct sockaddr *,
	    socklen_t);
int	allow_peer_key(const struct sockaddr *, socklen_t, unsigned char *);
const char *
	allow_peer_text(const struct sockaddr *, socklen_t, char *, size_t);

#endif
