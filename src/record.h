/*
 * The FastCGI record stream as libfcgi reads it: padding repaired, params
 * bounded.  Linked with the private copy of libfcgi.a (HAVE_ARENA).
 */
#ifndef RECORD_H
#define RECORD_H

#include <sys/types.h>

/* Params of one request: bytes on the wire (as nginx's own header
 * buffers suggest) and name-value pairs. */
#define RECORD_MAX_PARAMS_BYTES	(64 * 1024)
#define RECORD_MAX_PARAMS	1024
/* libfcgi's reader size (NewReader(..., 8192, 0) in FCGX_Accept_r). */
#define RECORD_READ_BYTES	8192

void	record_init(int);
void	record_reset(int, int);
void	record_use(int);
int	record_pending(int);
ssize_t	record_read(int, void *, size_t);

#endif
