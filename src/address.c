/*
 * -s ADDRESS.  This file owns telling the forms apart and splitting them;
 * resolving a host name and binding are listen.c's.  The forms are
 * php-fpm's "listen" values, so operators need learn nothing new:
 *   /run/upcase-fcgi.sock   a unix socket (anything with a '/')
 *   127.0.0.1:9000          an IPv4 address or a host name, and a port
 *   [::1]:9000              an IPv6 address in brackets, and a port
 *   9000 or :9000           every address, IPv6 and IPv4
 */
#include <config.h>

#include <string.h>

#include "address.h"

/* Check and copy a decimal port 1-65535; 0 or -1. */
static int
address_port(const char *text, struct address *a)
{
	size_t	 i, len = strlen(text);
	long	 port = 0;

	if (len == 0 || len >= sizeof(a->port))
		return -1;
	for (i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		port = port * 10 + (text[i] - '0');
	}
	if (port < 1 || port > 65535)
		return -1;
	memcpy(a->port, text, len + 1);
	return 0;
}

/*
 * Parse text into a.  Returns 0, or -1 with *why saying what is wrong
 * (a constant string).
 */
int
address_parse(const char *text, struct address *a, const char **why)
{
	const char	*colon, *close;
	size_t		 hlen;

	memset(a, 0, sizeof(*a));
	*why = "not a path, HOST:PORT, [IPV6]:PORT, PORT or :PORT";
	if (strchr(text, '/') != NULL) {
		a->kind = ADDRESS_UNIX;
		return 0;
	}
	if (text[0] == '[') {
		if ((close = strchr(text, ']')) == NULL || close[1] != ':')
			return -1;
		hlen = (size_t)(close - text - 1);
		text++;
	} else if ((colon = strrchr(text, ':')) == NULL ||
	    colon == text) {
		a->kind = ADDRESS_TCP_ANY;
		if (address_port(colon == NULL ? text : text + 1, a) == -1) {
			*why = "the port is not a number from 1 to 65535";
			return -1;
		}
		return 0;
	} else {
		if (strchr(text, ':') != colon) {
			*why = "an IPv6 address needs brackets: [IPV6]:PORT";
			return -1;
		}
		hlen = (size_t)(colon - text);
	}
	if (hlen == 0 || hlen >= sizeof(a->host))
		return -1;
	memcpy(a->host, text, hlen);
	a->host[hlen] = '\0';
	a->kind = ADDRESS_TCP_HOST;
	if (address_port(text + hlen + (text[hlen] == ']' ? 2 : 1), a) == -1) {
		*why = "the port is not a number from 1 to 65535";
		return -1;
	}
	return 0;
}
