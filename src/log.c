/*
 * Logging.  Until the daemon starts serving, every line also goes to stderr
 * so that an operator at a terminal sees why startup failed; after that,
 * lines go only where -f chose: stderr, or syslog.  Nothing here is called
 * for a request that succeeds.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

#define LOG_LINE_BYTES	1024

static int	log_to_stderr = 1;
static int	log_to_syslog;

static void	log_vwrite(int, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

/* Choose stderr (foreground) or syslog as the destination. */
void
log_init(int to_stderr)
{
	log_to_stderr = 1;
	log_to_syslog = !to_stderr;
	if (log_to_syslog)
		openlog(PACKAGE, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Startup is over: from now on syslog mode stops echoing to stderr. */
void
log_serving(void)
{
	if (log_to_syslog)
		log_to_stderr = 0;
}

static void
log_vwrite(int prio, const char *why, const char *fmt, va_list ap)
{
	char	 line[LOG_LINE_BYTES];
	int	 saved_errno = errno;

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_to_stderr) {
		if (why != NULL)
			fprintf(stderr, "%s: %s: %s\n", PACKAGE, line, why);
		else
			fprintf(stderr, "%s: %s\n", PACKAGE, line);
		fflush(stderr);
	}
	if (log_to_syslog) {
		if (why != NULL)
			syslog(prio, "%s: %s", line, why);
		else
			syslog(prio, "%s", line);
	}
	errno = saved_errno;
}

/* Log a warning followed by strerror(errno). */
void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	char	*why = strerror(errno);

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, why, fmt, ap);
	va_end(ap);
}

/* Log a warning that has no errno. */
void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

/* Log a normal but significant event (start, stop, respawn). */
void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

/* Log with strerror(errno) and exit 1. */
void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	char	*why = strerror(errno);

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, why, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log and exit 1. */
void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
