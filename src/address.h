/*
 * The forms -s ADDRESS takes, as php-fpm's "listen" does.  Pure parsing;
 * listen.c turns the result into a socket.
 */
#ifndef ADDRESS_H
#define ADDRESS_H

#define ADDRESS_HOST_BYTES	256
#define ADDRESS_PORT_BYTES	8

enum address_kind {
	ADDRESS_UNIX,		/* a path: contains a '/' */
	ADDRESS_TCP_HOST,	/* HOST:PORT or [IPV6]:PORT */
	ADDRESS_TCP_ANY		/* PORT or :PORT: every address */
};

struct address {
	enum address_kind	 kind;
	char			 host[ADDRESS_HOST_BYTES];	/* no brackets */
	char			 port[ADDRESS_PORT_BYTES];	/* 1-65535 */
};

int	address_parse(const char *, struct address *, const char **);

#endif
