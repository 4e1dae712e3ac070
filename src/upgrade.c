/*
 * In-place binary upgrade (SIGUSR2).  This file owns both halves of the
 * hand-over: the running master re-executes the binary at the path it was
 * started from, with the same arguments and the same PID, so that a
 * supervisor (systemd Type=simple, spawn-fcgi -n, runit) sees nothing; and
 * the new image picks up the listening socket and the old children from
 * the environment.  Starting children and retiring old ones is
 * prefork.c's.
 *
 * Before the exec, the new binary is run once with the same arguments and
 * --test (check the options, then exit 0): a file that is missing, not
 * executable, refuses the options or crashes at start-up is found out
 * while the running image can still keep serving.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "prefork.h"
#include "upgrade.h"

#define UPGRADE_ENV		"UPCASE_FCGI_UPGRADE"
#define UPGRADE_TEST_MS		5000	/* the --test run's time limit */
#define UPGRADE_MAX_ARGS	256

extern char	**environ;

static char	 exe_path[PATH_MAX];
static char	**saved_argv;
static int	 saved_argc;

/*
 * Remember how we were started, for upgrade_exec: the binary's path (from
 * /proc/self/exe now, before anyone replaces the file) and the arguments.
 */
void
upgrade_init(int argc, char **argv)
{
	ssize_t	 n;

	saved_argc = argc;
	saved_argv = argv;
	n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	if (n <= 0) {
		exe_path[0] = '\0';
		return;
	}
	exe_path[n] = '\0';
}

/*
 * In a new image: if our previous image handed over (UPGRADE_ENV names our
 * PID), store the listening socket's fd and the old children (at most
 * max) and return 1; else 0.  The variable is removed either way.
 */
int
upgrade_inherited(int *listen_fd, pid_t *children, int max, int *n)
{
	const char	*v = getenv(UPGRADE_ENV);
	char		*p, *end;
	long		 pid, fd, child;

	*n = 0;
	if (v == NULL)
		return 0;
	pid = strtol(v, &p, 10);
	if (*p != ':' || pid != (long)getpid()) {
		unsetenv(UPGRADE_ENV);
		return 0;
	}
	fd = strtol(p + 1, &end, 10);
	if (end == p + 1 || fd < 0 || fd > INT_MAX)
		fatalx("%s: no listening socket in \"%s\"", UPGRADE_ENV, v);
	*listen_fd = (int)fd;
	for (p = end; *p == ','; p = end) {
		child = strtol(p + 1, &end, 10);
		if (end == p + 1 || child <= 0)
			break;
		if (*n < max)
			children[(*n)++] = (pid_t)child;
	}
	unsetenv(UPGRADE_ENV);
	return 1;
}

/* Run the binary with our arguments and --test; 0 if it exits 0 in time. */
static int
upgrade_test(void)
{
	char			*argv[UPGRADE_MAX_ARGS + 2];
	struct timespec		 tick = { 0, 10 * 1000 * 1000 };
	pid_t			 pid;
	int			 i, status, waited_ms;

	for (i = 0; i < saved_argc && i < UPGRADE_MAX_ARGS; i++)
		argv[i] = saved_argv[i];
	argv[i++] = (char *)"--test";
	argv[i] = NULL;
	if ((pid = fork()) == -1) {
		log_warn("upgrade: fork");
		return -1;
	}
	if (pid == 0) {
		execve(exe_path, argv, environ);
		log_warn("upgrade: cannot execute %s", exe_path);
		_exit(127);
	}
	for (waited_ms = 0; waited_ms < UPGRADE_TEST_MS; waited_ms += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				return 0;
			if (WIFSIGNALED(status))
				log_warnx("upgrade: %s --test was killed by "
				    "signal %d (%s)", exe_path,
				    WTERMSIG(status),
				    strsignal(WTERMSIG(status)));
			else if (WEXITSTATUS(status) != 127)
				log_warnx("upgrade: %s --test exited with "
				    "status %d", exe_path,
				    WEXITSTATUS(status));
			return -1;
		}
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	log_warnx("upgrade: %s --test did not finish within %d ms", exe_path,
	    UPGRADE_TEST_MS);
	return -1;
}

/*
 * Re-execute the binary in place, handing over listen_fd and the n live
 * children.  Returns only if that could not be done, after logging why;
 * the caller goes on serving with the running image.
 */
void
upgrade_exec(int listen_fd, const pid_t *children, int n)
{
	static char	 value[24 + 12 * 2 * PREFORK_MAX_CHILDREN];
	size_t		 len;
	int		 i, flags;

	if (exe_path[0] == '\0') {
		log_warnx("upgrade: the binary's path is unknown (no "
		    "/proc/self/exe at start); still serving");
		return;
	}
	if (saved_argc > UPGRADE_MAX_ARGS) {
		log_warnx("upgrade: more than %d arguments; still serving",
		    UPGRADE_MAX_ARGS);
		return;
	}
	if (upgrade_test() == -1) {
		log_warnx("upgrade: %s does not start; still serving with "
		    "the running image", exe_path);
		return;
	}
	len = (size_t)snprintf(value, sizeof(value), "%ld:%d", (long)getpid(),
	    listen_fd);
	for (i = 0; i < n && len < sizeof(value); i++)
		len += (size_t)snprintf(value + len, sizeof(value) - len,
		    ",%ld", (long)children[i]);
	if ((flags = fcntl(listen_fd, F_GETFD)) == -1 ||
	    fcntl(listen_fd, F_SETFD, flags & ~FD_CLOEXEC) == -1 ||
	    setenv(UPGRADE_ENV, value, 1) == -1) {
		log_warn("upgrade: cannot pass on the listening socket; still "
		    "serving");
		return;
	}
	log_info("upgrade: executing %s", exe_path);
	/* Our signals stay blocked across the exec; the new image takes them. */
	execve(exe_path, saved_argv, environ);
	log_warn("upgrade: cannot execute %s; still serving", exe_path);
	unsetenv(UPGRADE_ENV);
	fcntl(listen_fd, F_SETFD, flags);
}
