/*
 * sandbox-probe.so: an LD_PRELOAD object for tests/sandbox.sh that makes a
 * child of the worker try a system call from inside its request path, with
 * no test hook in the product.  It wraps the C library's read(), which
 * libfcgi's reader calls through the PLT (record.c's record_read in the
 * arena build), and when the bytes just read hold one of these markers,
 * does what the marker says, then returns the bytes as read:
 *
 *   SANDBOX-PROBE-OPEN     openat("/etc/hostname", O_RDONLY)  forbidden
 *   SANDBOX-PROBE-EXEC     mmap of an executable page          forbidden
 *   SANDBOX-PROBE-KILL     kill(getppid(), 0): another process forbidden
 *   SANDBOX-PROBE-INET     socket(AF_INET, SOCK_STREAM, 0)     forbidden
 *   SANDBOX-PROBE-SYSLOG   syslog's unix datagram socket       allowed
 *   SANDBOX-PROBE-ABORT    abort(): tgkill of itself            allowed
 *   SANDBOX-PROBE-REPORT   a sanitizer's stack trace, in a sanitizer
 *                          build: its log file and symbolizer  allowed
 *
 * A forbidden call kills the child with SIGSYS under the sandbox; with
 * --no-sandbox, or for an allowed one, the request is answered as usual
 * (but for ABORT, which ends the child with SIGABRT either way).
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_PREFIX	"SANDBOX-PROBE-"

static ssize_t	(*real_read)(int, void *, size_t);

/* Resolved before any child exists: dlsym may allocate. */
__attribute__((constructor)) static void
probe_init(void)
{
	real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT,
	    "read");
}

static int
probe_has(const char *buf, size_t len, const char *what)
{
	char	 marker[64];

	strcpy(marker, PROBE_PREFIX);
	strcat(marker, what);
	return memmem(buf, len, marker, strlen(marker)) != NULL;
}

static void
probe_act(const char *buf, size_t len)
{
	void	(*report)(void);
	void	*p;
	int	 fd;

	if (probe_has(buf, len, "OPEN") &&
	    (fd = openat(AT_FDCWD, "/etc/hostname", O_RDONLY)) != -1)
		close(fd);
	if (probe_has(buf, len, "EXEC") && (p = mmap(NULL, 4096,
	    PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) !=
	    MAP_FAILED)
		munmap(p, 4096);
	if (probe_has(buf, len, "KILL"))
		kill(getppid(), 0);
	if (probe_has(buf, len, "INET") &&
	    (fd = socket(AF_INET, SOCK_STREAM, 0)) != -1)
		close(fd);
	if (probe_has(buf, len, "SYSLOG") &&
	    (fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1)
		close(fd);
	if (probe_has(buf, len, "ABORT"))
		abort();
	if (probe_has(buf, len, "REPORT") && (report = (void (*)(void))dlsym(
	    RTLD_DEFAULT, "__sanitizer_print_stack_trace")) != NULL)
		report();
}

ssize_t
read(int fd, void *buf, size_t len)
{
	ssize_t	 n;

	if (real_read == NULL)
		probe_init();
	n = real_read(fd, buf, len);
	if (n >= (ssize_t)sizeof(PROBE_PREFIX) &&
	    memmem(buf, (size_t)n, PROBE_PREFIX, sizeof(PROBE_PREFIX) - 1))
		probe_act(buf, (size_t)n);
	return n;
}
