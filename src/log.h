/*
 * Logging: one vocabulary for the whole daemon.  Lines read
 * "upcase-fcgi: what: why" on stderr, or go to syslog (facility daemon).
 */
#ifndef LOG_H
#define LOG_H

void	log_init(int to_stderr);
void	log_serving(void);
void	log_warn(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
