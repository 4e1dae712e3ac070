/*
 * Filling in FastCGI record headers and the closing records, for what the
 * worker writes itself (worker.c's direct responses, record.c's 431).
 */
#ifndef FCGI_HEADER_H
#define FCGI_HEADER_H

#include <stddef.h>
#include <string.h>

#include <fastcgi.h>

/*
 * A record of this type and len content bytes for request_id, without
 * padding (FastCGI 1.0, section 3.3: padding is optional).
 */
static inline void
fcgi_header_fill(FCGI_Header *h, int type, int request_id, size_t len)
{
	h->version = FCGI_VERSION_1;
	h->type = (unsigned char)type;
	h->requestIdB1 = (unsigned char)((request_id >> 8) & 0xff);
	h->requestIdB0 = (unsigned char)(request_id & 0xff);
	h->contentLengthB1 = (unsigned char)((len >> 8) & 0xff);
	h->contentLengthB0 = (unsigned char)(len & 0xff);
	h->paddingLength = 0;
	h->reserved = 0;
}

/* The records that end a request: an empty FCGI_STDOUT, FCGI_END_REQUEST. */
struct fcgi_closing {
	FCGI_Header		 eof;
	FCGI_EndRequestRecord	 end;
};

/*
 * Fill in the closing records as libfcgi's FCGX_FClose writes them
 * (WriteCloseRecords): application status 0, "request complete".
 */
static inline void
fcgi_closing_fill(struct fcgi_closing *c, int request_id)
{
	fcgi_header_fill(&c->eof, FCGI_STDOUT, request_id, 0);
	fcgi_header_fill(&c->end.header, FCGI_END_REQUEST, request_id,
	    sizeof(c->end.body));
	memset(&c->end.body, 0, sizeof(c->end.body));
	c->end.body.protocolStatus = FCGI_REQUEST_COMPLETE;
}

#endif
