/*
 * The children's system call sandbox: the Linux counterpart of slowcgi's
 * pledge(2).  This file owns the list of system calls a child may make
 * once its static context is built, why each is there, and the seccomp
 * filter that enforces it.  When a child enters the sandbox is worker.c's
 * business; logging a child the filter killed is prefork.c's.
 *
 * A call not on the list kills the whole child with SIGSYS
 * (SECCOMP_RET_KILL_PROCESS), and the master logs that and replaces it.
 * Not on the list, among others: execve, open and openat, fork and clone,
 * socket creation (but for syslog's, below, and with --status-path a
 * sock_diag netlink socket, which reads the listen queue), ptrace, mapping or
 * protecting memory as executable, and signals to any process but the
 * child itself.
 *
 * The filter is compiled once, by libseccomp, in the master
 * (sandbox_prepare); a child only installs the finished program
 * (sandbox_enter).  libseccomp allocates while it compiles, and starting
 * a child makes no heap call (tests/alloc.sh counts recycled children
 * too).  The one value that differs between children, the PID that kill
 * and tgkill may name (abort() and raise() signal the caller), is a
 * placeholder in the program that each child overwrites with its own.
 *
 * Syslog.  The master opens syslog's socket (LOG_NDELAY) before it forks,
 * so a child only sends on it.  When a send fails -- the syslog daemon was
 * restarted, or there is no /dev/log -- glibc's syslog() reconnects: a new
 * unix datagram socket and connect().  Those are allowed, for unix
 * datagram sockets only, so that a child keeps logging; such a socket
 * reaches only datagram sockets the child's user may write to, as
 * /dev/log.  A syslog daemon that listens on a stream socket is not
 * reconnected to (that would open the way to every local unix service):
 * a child that must reconnect to one dies with SIGSYS and is replaced.
 * syslog() also formats the local time, which reads /etc/localtime once
 * per process: sandbox_prepare does that in the master.
 */
#include <config.h>

#include <sys/types.h>

#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_SECCOMP
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>

#include <seccomp.h>
#endif
#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#endif
#if defined(HAVE_SECCOMP) && defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZERS	1
#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#endif

#include "log.h"
#include "sandbox.h"

#ifdef HAVE_SECCOMP
/*
 * Stands for the child's PID in the compiled program.  No PID is this
 * large (the kernel's pid_max is at most 2^22), nor any other constant
 * the filter compares with.
 */
#define SANDBOX_PID_PLACEHOLDER	0x5ecc0deU

/*
 * Allowed with any arguments.  System calls that do not exist on the
 * architecture (SCMP_SYS gives a negative number) are skipped.
 */
static const int	 sandbox_allowed[] = {
	/*
	 * A connection: libfcgi's reads (record.c's record_read) and
	 * writes, record.c's writev of a refusal, worker_direct's sendmsg;
	 * recvfrom and sendto are recv and send (syslog's send).  close and
	 * shutdown end a connection (libfcgi's OS_Close).
	 */
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write), SCMP_SYS(writev),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
	SCMP_SYS(close), SCMP_SYS(shutdown),
	/*
	 * Taking connections (accept.c; libfcgi's OS_Accept after a
	 * connection without a request gets EBADF from accept), their
	 * timeouts and TCP_NODELAY, the listener's family, libfcgi's
	 * fcntl of O_NONBLOCK and its peer checks.
	 */
	SCMP_SYS(accept4), SCMP_SYS(accept),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(fcntl),
	/*
	 * Waiting: the idle wait and the kept connections (epoll,
	 * conns.c), a full socket buffer (poll), libfcgi's lingering close
	 * and unix keeper (poll), letting stop signals in (ppoll), the
	 * pause after EMFILE (nanosleep).
	 */
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	/*
	 * Signals: the masks around the idle wait, returning from a stop
	 * handler, a system call restarted after one (SA_RESTART); and
	 * sigaction and sigaltstack, which abort() and the sanitizers'
	 * error paths use.
	 */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack),
	SCMP_SYS(restart_syscall),
	/*
	 * Clocks (vDSO calls, but real system calls under valgrind or
	 * where the vDSO lacks a clock) and the PIDs in log lines.
	 */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(gettid),
	/*
	 * Memory: the body buffer's trim (madvise); the C library's
	 * allocator, which vsnprintf and syslog() may use for a log line
	 * (brk, munmap, mremap; mmap and mprotect are below); locks.
	 */
	SCMP_SYS(madvise), SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(futex),
	/* Ending: _exit(), -r recycling, a stop, fatal(). */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/*
 * Allowed as well when the daemon runs under valgrind, whose own system
 * calls pass through the filter too: it polls for signals, and it maps
 * its translations of the guest's code executable (mmap and mprotect
 * are then allowed with any protection; see sandbox_allow_some).
 */
static const int	 sandbox_valgrind[] = {
	SCMP_SYS(rt_sigtimedwait),
};

#ifdef SANDBOX_SANITIZERS
/*
 * A build with AddressSanitizer (configure --enable-sanitizers, a test
 * build) writes a report from inside the child: it opens its log file
 * and reads the binaries to symbolize the stack, and would otherwise die
 * of SIGSYS with the report lost.  These are allowed then, and open only
 * with the flags of the sanitizer runtime's own opens (sandbox_allow_some).
 */
static const int	 sandbox_sanitizers[] = {
	SCMP_SYS(readlink), SCMP_SYS(newfstatat),
};
#endif

/* The compiled program; in a child, with its PID written in. */
static struct sock_filter	 sandbox_prog[BPF_MAXINSNS];
static unsigned short		 sandbox_len;

/* Allow nr when its arguments pass the n comparisons of cmp. */
static void
sandbox_allow(scmp_filter_ctx ctx, int nr, unsigned int n,
    const struct scmp_arg_cmp *cmp)
{
	char	*name;
	int	 rc;

	if (nr < 0)
		return;
	if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp)) ==
	    0)
		return;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	fatalx("sandbox: add the rule for %s: %s", name != NULL ? name :
	    "a system call", strerror(-rc));
}

#ifdef SANDBOX_SANITIZERS
/*
 * What a sanitizer's report needs (see sandbox_sanitizers): the runtime
 * creates its log file (O_WRONLY | O_CREAT | O_TRUNC) and reads
 * /proc/self/maps (O_RDONLY) with the legacy open(2) system call, which
 * the C library never makes on x86-64, and its symbolizer (libbacktrace)
 * reads /proc/self/exe with the C library's open(), that is openat(2),
 * with O_RDONLY | O_CLOEXEC exactly.  Any other open still kills, as
 * does an openat with other flags (tests/sandbox.sh's O_RDONLY).
 */
static void
sandbox_allow_sanitizers(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp	 open_report[] = {
		SCMP_A1(SCMP_CMP_MASKED_EQ, ~(scmp_datum_t)O_CLOEXEC,
		    O_WRONLY | O_CREAT | O_TRUNC)
	};
	const struct scmp_arg_cmp	 open_read[] = {
		SCMP_A1(SCMP_CMP_MASKED_EQ, ~(scmp_datum_t)O_CLOEXEC, O_RDONLY)
	};
	const struct scmp_arg_cmp	 openat_read[] = {
		SCMP_A2(SCMP_CMP_EQ, O_RDONLY | O_CLOEXEC)
	};
	size_t				 i;

	for (i = 0; i < sizeof(sandbox_sanitizers) /
	    sizeof(sandbox_sanitizers[0]); i++)
		sandbox_allow(ctx, sandbox_sanitizers[i], 0, NULL);
	sandbox_allow(ctx, SCMP_SYS(open), 1, open_report);
	sandbox_allow(ctx, SCMP_SYS(open), 1, open_read);
	sandbox_allow(ctx, SCMP_SYS(openat), 1, openat_read);
}
#endif

/*
 * The calls allowed only with some arguments: memory never executable,
 * signals only to the child itself, sockets only unix datagram ones, no
 * ioctl but FIONREAD.
 */
static void
sandbox_allow_some(scmp_filter_ctx ctx, int valgrind, int sock_diag)
{
	const struct scmp_arg_cmp	 no_exec[] = {
		SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)
	};
	const struct scmp_arg_cmp	 self[] = {
		SCMP_A0(SCMP_CMP_EQ, SANDBOX_PID_PLACEHOLDER)
	};
	const struct scmp_arg_cmp	 fionread[] = {
		SCMP_A1(SCMP_CMP_EQ, FIONREAD)
	};
	const struct scmp_arg_cmp	 syslog_socket[] = {
		SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
		SCMP_A1(SCMP_CMP_EQ, SOCK_DGRAM | SOCK_CLOEXEC),
		SCMP_A2(SCMP_CMP_EQ, 0)
	};
	const struct scmp_arg_cmp	 diag_socket[] = {
		SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
		SCMP_A1(SCMP_CMP_EQ, SOCK_RAW | SOCK_CLOEXEC),
		SCMP_A2(SCMP_CMP_EQ, NETLINK_SOCK_DIAG)
	};

	/* Under valgrind no code of ours runs natively anyway. */
	sandbox_allow(ctx, SCMP_SYS(mmap), valgrind ? 0 : 1, no_exec);
	sandbox_allow(ctx, SCMP_SYS(mprotect), valgrind ? 0 : 1, no_exec);
	/* Bytes waiting on a kept connection (conns.c's LRU): no more. */
	sandbox_allow(ctx, SCMP_SYS(ioctl), 1, fionread);
	/* abort() and raise(): tgkill(getpid(), gettid(), sig). */
	sandbox_allow(ctx, SCMP_SYS(tgkill), 1, self);
	sandbox_allow(ctx, SCMP_SYS(kill), 1, self);
	/* syslog() reconnecting; see the top of this file. */
	sandbox_allow(ctx, SCMP_SYS(socket), 3, syslog_socket);
	/*
	 * The status page's look at a unix listen queue (queue.c): it can
	 * list the host's sockets, not touch them (destroying one needs
	 * CAP_NET_ADMIN, which a child never has).
	 */
	if (sock_diag)
		sandbox_allow(ctx, SCMP_SYS(socket), 3, diag_socket);
	sandbox_allow(ctx, SCMP_SYS(connect), 0, NULL);
#ifdef SANDBOX_SANITIZERS
	sandbox_allow_sanitizers(ctx);
#endif
}

/* Compile the rules into sandbox_prog, through a memory file. */
static void
sandbox_compile(scmp_filter_ctx ctx)
{
	ssize_t	 n;
	int	 fd, rc;

	if ((fd = memfd_create("upcase-fcgi-sandbox", MFD_CLOEXEC)) == -1)
		fatal("sandbox: memfd_create");
	if ((rc = seccomp_export_bpf(ctx, fd)) != 0)
		fatalx("sandbox: compile the filter: %s", strerror(-rc));
	if ((n = pread(fd, sandbox_prog, sizeof(sandbox_prog), 0)) == -1)
		fatal("sandbox: read the compiled filter");
	close(fd);
	if (n == 0 || n == (ssize_t)sizeof(sandbox_prog) ||
	    n % (ssize_t)sizeof(sandbox_prog[0]) != 0)
		fatalx("sandbox: the compiled filter has %zd bytes", n);
	sandbox_len = (unsigned short)(n / (ssize_t)sizeof(sandbox_prog[0]));
}

/*
 * Compile the filter, once, in the master (children inherit it), and
 * load the local time zone that syslog() uses.  sock_diag: the status
 * page is on.  Exits if it cannot.
 */
void
sandbox_prepare(int sock_diag)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 rc, valgrind = 0;

#ifdef HAVE_VALGRIND_VALGRIND_H
	/* Decided at start, by the master: no request can change it. */
	valgrind = RUNNING_ON_VALGRIND != 0;
#endif
	tzset();
	/*
	 * Compile for the kernel's API level 3 (Linux 4.14:
	 * SECCOMP_RET_KILL_PROCESS) without asking this kernel, which
	 * libseccomp would otherwise do: only the children install the
	 * program, and under valgrind the master's probe fails.  A kernel
	 * older than that kills the thread instead: the whole child all the
	 * same, as it has one thread.
	 */
	if ((rc = seccomp_api_set(3)) != 0)
		fatalx("sandbox: seccomp_api_set: %s", strerror(-rc));
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("sandbox: seccomp_init failed");
	/* Nor is another ABI (int 0x80 on x86-64) a way around the list. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0)
		fatalx("sandbox: seccomp_attr_set: %s", strerror(-rc));
	for (i = 0; i < sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]);
	    i++)
		sandbox_allow(ctx, sandbox_allowed[i], 0, NULL);
	for (i = 0; valgrind && i < sizeof(sandbox_valgrind) /
	    sizeof(sandbox_valgrind[0]); i++)
		sandbox_allow(ctx, sandbox_valgrind[i], 0, NULL);
	sandbox_allow_some(ctx, valgrind, sock_diag);
	sandbox_compile(ctx);
	seccomp_release(ctx);
}

/*
 * Restrict the calling child to the allowed system calls for the rest of
 * its life.  Exits if the kernel refuses the filter.
 */
void
sandbox_enter(void)
{
	struct sock_fprog	 prog;
	unsigned short		 i;
	pid_t			 pid = getpid();

	/* Not compiled in the master (a test harness): compile it here. */
	if (sandbox_len == 0)
		sandbox_prepare(0);
	for (i = 0; i < sandbox_len; i++)
		if (sandbox_prog[i].code == (BPF_JMP | BPF_JEQ | BPF_K) &&
		    sandbox_prog[i].k == SANDBOX_PID_PLACEHOLDER)
			sandbox_prog[i].k = (unsigned int)pid;
#ifdef SANDBOX_SANITIZERS
	/* The runtime caches what it can no longer read once confined. */
	__sanitizer_sandbox_on_notify(NULL);
#endif
	/* Required to install a filter without CAP_SYS_ADMIN. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("sandbox: prctl PR_SET_NO_NEW_PRIVS");
	prog.len = sandbox_len;
	prog.filter = sandbox_prog;
	/* prctl, not seccomp(2): the same here, and valgrind knows it. */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1)
		fatal("sandbox: install the seccomp filter (--no-sandbox runs "
		    "without it)");
}
#else

/* Say once, in the master, that this build has no sandbox. */
void
sandbox_prepare(int sock_diag)
{
	(void)sock_diag;
	log_warnx("no sandbox: built without libseccomp, children may make "
	    "any system call");
}

/* Without libseccomp there is no filter to enter. */
void
sandbox_enter(void)
{
}
#endif
