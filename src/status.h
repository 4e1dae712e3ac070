/*
 * The status page (--status-path): which requests ask for it, and the
 * page itself, formatted from the scoreboard into a static buffer.
 */
#ifndef STATUS_H
#define STATUS_H

#include <stddef.h>

enum status_format { STATUS_TEXT, STATUS_JSON, STATUS_OPENMETRICS };

struct status_ask {
	enum status_format	 format;
	int			 full;		/* a row per child too */
};

int	status_asked(const char *, char **, struct status_ask *);
size_t	status_page(const struct status_ask *, const char **, const char **);

#endif
