/*
 * upcase-fcgi: a preforked FastCGI responder that answers every request
 * with its body uppercased.  main() is the daemon's life in order: make
 * fds 0-2 valid, read options (and the variables that stand in for them),
 * obtain the listening socket, drop root, hand over to the master
 * (prefork.c), which runs the children (worker.c).
 */
#include <config.h>

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accept.h"
#include "address.h"
#include "allow.h"
#include "listen.h"
#include "log.h"
#include "policy.h"
#include "prefork.h"
#include "priv.h"
#include "queue.h"
#include "sandbox.h"
#include "scoreboard.h"
#include "upgrade.h"
#include "upper.h"
#include "worker.h"

#define DEFAULT_MAX_BODY	(1024 * 1024)	/* nginx's client_max_body_size */
#define DEFAULT_SOCKET_MODE	0660
#define DEFAULT_STOP_TIMEOUT_SEC 10
#define DEFAULT_IO_TIMEOUT_SEC	30
/* Above nginx's upstream keepalive_timeout (60 s): nginx closes first. */
#define DEFAULT_IDLE_TIMEOUT_SEC 75
#define DEFAULT_MAX_CONNS	256
#define MAX_MAX_CONNS		65536
#define MAX_TIMEOUT_SEC		3600

struct options {
	long		 children;
	int		 children_given;
	size_t		 max_body;
	const char	*socket_path;
	mode_t		 socket_mode;
	const char	*user;
	const char	*group;
	long		 stop_timeout_sec;
	int		 foreground;
	int		 ascii;
	long		 backlog;
	const char	*allow;
	long		 max_requests;
	int		 max_requests_given;
	long		 io_timeout_sec;
	long		 idle_timeout_sec;
	long		 max_conns;
	int		 test_only;
	int		 no_sandbox;
	const char	*status_path;
};

enum { OPT_ASCII = 256, OPT_BACKLOG, OPT_IDLE_TIMEOUT, OPT_IO_TIMEOUT,
	OPT_MAX_CONNS, OPT_NO_SANDBOX, OPT_STATUS_PATH };

static const struct option long_options[] = {
	{ "allow",		required_argument,	NULL, 'A' },
	{ "ascii",		no_argument,		NULL, OPT_ASCII },
	{ "backlog",		required_argument,	NULL, OPT_BACKLOG },
	{ "children",		required_argument,	NULL, 'c' },
	{ "foreground",		no_argument,		NULL, 'f' },
	{ "group",		required_argument,	NULL, 'g' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "idle-timeout",	required_argument,	NULL, OPT_IDLE_TIMEOUT },
	{ "io-timeout",		required_argument,	NULL, OPT_IO_TIMEOUT },
	{ "max-conns",		required_argument,	NULL, OPT_MAX_CONNS },
	{ "max-requests",	required_argument,	NULL, 'r' },
	{ "no-sandbox",		no_argument,		NULL, OPT_NO_SANDBOX },
	{ "socket-mode",	required_argument,	NULL, 'M' },
	{ "max-body",		required_argument,	NULL, 'm' },
	{ "socket",		required_argument,	NULL, 's' },
	{ "status-path",	required_argument,	NULL, OPT_STATUS_PATH },
	{ "stop-timeout",	required_argument,	NULL, 'T' },
	{ "test",		no_argument,		NULL, 't' },
	{ "user",		required_argument,	NULL, 'u' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*out = status == 0 ? stdout : stderr;

	fprintf(out,
	    "usage: %s [-fhtV] [--ascii] [-A list] [-c children] "
	    "[-m max-body] [-r requests]\n"
	    "       %*s [-T seconds] [--io-timeout seconds] [-u user] "
	    "[-g group]\n"
	    "       %*s [-s address [-M mode] [--backlog n]]\n"
	    "\n"
	    "  -c, --children N      children to prefork (default: "
	    "PHP_FCGI_CHILDREN,\n"
	    "                        else online CPUs)\n"
	    "  -m, --max-body SIZE   longest body served, k or M suffix "
	    "(default: 1M)\n"
	    "  -r, --max-requests N  a child exits after N requests and is "
	    "replaced\n"
	    "                        (default: PHP_FCGI_MAX_REQUESTS, else "
	    "0: never)\n"
	    "  -s, --socket ADDRESS  bind PATH, HOST:PORT, [IPV6]:PORT, PORT "
	    "or :PORT\n"
	    "                        (default: systemd's socket, else the "
	    "one on fd 0)\n"
	    "  -M, --socket-mode MODE  octal mode of a unix -s (default: "
	    "0660)\n"
	    "      --backlog N       listen queue of -s (default: 1024)\n"
	    "  -A, --allow LIST      TCP peers allowed: addresses, CIDR "
	    "prefixes\n"
	    "                        (default: FCGI_WEB_SERVER_ADDRS, else "
	    "any)\n"
	    "      --io-timeout S    give up a peer silent for S seconds "
	    "(default: 30)\n"
	    "      --max-conns N     connections a child keeps open "
	    "(default: 256)\n"
	    "      --idle-timeout S  close a kept connection idle for S "
	    "seconds (default: 75)\n"
	    "      --status-path PATH  answer requests for PATH with the "
	    "pool's status\n"
	    "  -u, --user USER       drop root to this user (owns -s)\n"
	    "  -g, --group GROUP     and this group (default: USER's)\n"
	    "  -T, --stop-timeout S  grace for busy children on stop "
	    "(default: 10)\n"
	    "  -f, --foreground      log to stderr instead of syslog\n"
	    "  -t, --test            check the options and exit\n"
	    "      --ascii           uppercase a-z only\n"
	    "      --no-sandbox      no seccomp filter in the children "
	    "(for debugging)\n"
	    "  -h, --help            show this help\n"
	    "  -V, --version         show the version\n"
	    "\nSee upcase-fcgi(8).\n",
	    PACKAGE, (int)strlen(PACKAGE), "", (int)strlen(PACKAGE), "");
	exit(status);
}

static void __attribute__((noreturn))
usage_error(const char *what, const char *value)
{
	fprintf(stderr, "%s: %s: %s\n", PACKAGE, what, value);
	fprintf(stderr, "Try '%s --help'.\n", PACKAGE);
	exit(2);
}

/* -c, or PHP_FCGI_CHILDREN (named by what): 1 to PREFORK_MAX_CHILDREN. */
static void
options_children(const char *text, const char *what, struct options *o)
{
	char	 why[64];

	snprintf(why, sizeof(why), "%s: not a number of children from 1 to %d",
	    what, PREFORK_MAX_CHILDREN);
	if (policy_parse_count(text, 1, PREFORK_MAX_CHILDREN, &o->children) ==
	    -1)
		usage_error(why, text);
	o->children_given = 1;
}

/* -r, or PHP_FCGI_MAX_REQUESTS (named by what): 0 means never. */
static void
options_max_requests(const char *text, const char *what, struct options *o)
{
	char	 why[64];

	snprintf(why, sizeof(why), "%s: not a number of requests", what);
	if (policy_parse_count(text, 0, 0x7fffffff, &o->max_requests) == -1)
		usage_error(why, text);
	o->max_requests_given = 1;
}

/*
 * The variables that stand in for options that were not given, as for
 * php-cgi and libfcgi: lighttpd's bin-environment and spawn-fcgi users set
 * them.  An empty variable counts as unset.
 */
static void
options_environment(struct options *o)
{
	const char	*v;

	if (!o->children_given && (v = getenv("PHP_FCGI_CHILDREN")) != NULL &&
	    *v != '\0')
		options_children(v, "PHP_FCGI_CHILDREN", o);
	if (!o->max_requests_given &&
	    (v = getenv("PHP_FCGI_MAX_REQUESTS")) != NULL && *v != '\0')
		options_max_requests(v, "PHP_FCGI_MAX_REQUESTS", o);
	if (o->allow == NULL && (v = getenv("FCGI_WEB_SERVER_ADDRS")) != NULL &&
	    *v != '\0')
		o->allow = v;
}

static void
options_parse(int argc, char **argv, struct options *o)
{
	long	 n;
	char	*end;
	int	 ch;

	o->children = sysconf(_SC_NPROCESSORS_ONLN);
	if (o->children < 1)
		o->children = 1;
	o->max_body = DEFAULT_MAX_BODY;
	o->socket_mode = DEFAULT_SOCKET_MODE;
	o->stop_timeout_sec = DEFAULT_STOP_TIMEOUT_SEC;

	o->backlog = LISTEN_BACKLOG;
	o->io_timeout_sec = DEFAULT_IO_TIMEOUT_SEC;
	o->idle_timeout_sec = DEFAULT_IDLE_TIMEOUT_SEC;
	o->max_conns = DEFAULT_MAX_CONNS;

	while ((ch = getopt_long(argc, argv, "A:c:fg:hM:m:r:s:T:tu:V",
	    long_options, NULL)) != -1) {
		switch (ch) {
		case 'A':
			o->allow = optarg;
			break;
		case 'c':
			options_children(optarg, "-c", o);
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'g':
			o->group = optarg;
			break;
		case 'h':
			usage(0);
		case 'M':
			errno = 0;
			n = strtol(optarg, &end, 8);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    n < 0 || n > 0777)
				usage_error("-M: not an octal mode", optarg);
			o->socket_mode = (mode_t)n;
			break;
		case 'm':
			if (policy_parse_size(optarg, &o->max_body) == -1)
				usage_error("-m: not a size up to 1024M",
				    optarg);
			break;
		case 'r':
			options_max_requests(optarg, "-r", o);
			break;
		case 's':
			o->socket_path = optarg;
			break;
		case 't':
			o->test_only = 1;
			break;
		case 'T':
			if (policy_parse_count(optarg, 0, MAX_TIMEOUT_SEC,
			    &o->stop_timeout_sec) == -1)
				usage_error("-T: not a number of seconds "
				    "from 0 to 3600", optarg);
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'V':
			printf("%s %s (Unicode %s)\n", PACKAGE,
			    PACKAGE_VERSION, upper_unicode_version());
			exit(0);
		case OPT_ASCII:
			o->ascii = 1;
			break;
		case OPT_NO_SANDBOX:
			o->no_sandbox = 1;
			break;
		case OPT_STATUS_PATH:
			if (optarg[0] != '/' || strlen(optarg) > 255)
				usage_error("--status-path: not a path from / "
				    "of up to 255 bytes", optarg);
			o->status_path = optarg;
			break;
		case OPT_BACKLOG:
			if (policy_parse_count(optarg, 1, 65535, &o->backlog) ==
			    -1)
				usage_error("--backlog: not a number from 1 to "
				    "65535", optarg);
			break;
		case OPT_IDLE_TIMEOUT:
			if (policy_parse_count(optarg, 0, MAX_TIMEOUT_SEC,
			    &o->idle_timeout_sec) == -1)
				usage_error("--idle-timeout: not a number of "
				    "seconds from 0 to 3600", optarg);
			break;
		case OPT_MAX_CONNS:
			if (policy_parse_count(optarg, 1, MAX_MAX_CONNS,
			    &o->max_conns) == -1)
				usage_error("--max-conns: not a number from 1 to "
				    "65536", optarg);
			break;
		case OPT_IO_TIMEOUT:
			if (policy_parse_count(optarg, 0, MAX_TIMEOUT_SEC,
			    &o->io_timeout_sec) == -1)
				usage_error("--io-timeout: not a number of "
				    "seconds from 0 to 3600", optarg);
			break;
		default:
			fprintf(stderr, "Try '%s --help'.\n", PACKAGE);
			exit(2);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument", argv[optind]);
	options_environment(o);
}

/*
 * Open /dev/null on any of fds 0-2 that is closed, so that no socket we
 * open lands there and later receives stray output.  An open fd 0 is left
 * alone: it may be the listening socket from spawn-fcgi.
 */
static void
fds_sane(void)
{
	int	 fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			exit(1);
	}
}

/*
 * Obtain the listening socket, in this order: the one our previous image
 * handed over (SIGUSR2), -s ADDRESS bound here, systemd's, fd 0.  Sets
 * *own_path when we bound a unix socket whose file we remove on stop.
 */
static int
main_listener(const struct options *o, const struct priv_ids *ids,
    struct prefork_config *master, const char **own_path)
{
	static pid_t		 old[2 * PREFORK_MAX_CHILDREN];
	struct listen_config	 lc;
	int			 fd, is_unix = 0;

	*own_path = NULL;
	if (upgrade_inherited(&fd, old, (int)(sizeof(old) / sizeof(old[0])),
	    &master->nold)) {
		master->old_children = old;
		fd = listen_adopt(fd);
		if (o->socket_path != NULL && strchr(o->socket_path, '/'))
			*own_path = o->socket_path;
		log_info("upgrade: took over the listening socket and %d "
		    "children", master->nold);
		return fd;
	}
	if (o->socket_path != NULL) {
		lc.backlog = (int)o->backlog;
		lc.mode = o->socket_mode;
		lc.uid = ids->uid;
		lc.gid = ids->gid;
		fd = listen_bind(o->socket_path, &lc, &is_unix);
		if (is_unix)
			*own_path = o->socket_path;
		return fd;
	}
	if ((fd = listen_systemd()) != -1 || (fd = listen_inherited()) != -1)
		return fd;
	fprintf(stderr, "%s: no listening socket: not started by systemd "
	    "socket activation, and fd 0 is not one; start under spawn-fcgi "
	    "or systemd, or give -s ADDRESS\n", PACKAGE);
	exit(2);
}

/*
 * Make sure a child can open what it needs -- on top of the descriptors
 * open now (0-2, syslog's, an inherited listening socket): the listening
 * socket, the master's ready pipe, its wait instance, the connections it
 * keeps (--max-conns) and one more in service --
 * raising the soft limit up to the hard one if needed.  Otherwise every
 * accept would fail with EMFILE; better to say so at start-up, before a
 * socket file is made.
 */
static void
main_check_fd_limit(long max_conns)
{
	struct rlimit	 rl;
	DIR		*d;
	long		 open_now = 0, need;

	if ((d = opendir("/proc/self/fd")) != NULL) {
		while (readdir(d) != NULL)
			open_now++;
		closedir(d);
		open_now -= 3;	/* ".", ".." and the directory itself */
	} else
		open_now = 8;
	need = open_now + 4 + max_conns;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY ||
	    (long)rl.rlim_cur >= need)
		return;
	if (rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < need)
		fatalx("the open file limit is %lu, and a child needs %ld "
		    "descriptors: raise it (ulimit -n, LimitNOFILE=)",
		    (unsigned long)rl.rlim_max, need);
	rl.rlim_cur = (rlim_t)need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("raise the open file limit to %ld", need);
	log_info("raised the open file limit to %ld, what a child needs",
	    need);
}

/* Parse -A (or FCGI_WEB_SERVER_ADDRS) into list; exit 2 if it is wrong. */
static void
main_allowlist(const struct options *o, struct allow_list *list)
{
	char	 why[128];

	if (o->allow == NULL)
		return;
	if (allow_parse(o->allow, list, why, sizeof(why)) == -1) {
		fprintf(stderr, "%s: -A or FCGI_WEB_SERVER_ADDRS: %s\n",
		    PACKAGE, why);
		exit(2);
	}
}

/*
 * Until the master's handlers are in place (prefork_run), a stop, reload
 * or upgrade signal waits instead of acting by default: a SIGTERM that a
 * service manager sends right after the start would otherwise kill the
 * process before it could stop cleanly.  prefork_run takes them out of
 * the mask it inherits, as after an upgrade, and handles any that came.
 */
static void
main_hold_signals(void)
{
	sigset_t	 held;

	sigemptyset(&held);
	sigaddset(&held, SIGTERM);
	sigaddset(&held, SIGINT);
	sigaddset(&held, SIGHUP);
	sigaddset(&held, SIGUSR2);
	sigprocmask(SIG_BLOCK, &held, NULL);
}

/* The master's tick with a status page: sample the listen queue. */
static void
main_sample_queue(void)
{
	struct listen_queue	 q;

	queue_measure(&q);
	if (q.now >= 0)
		scoreboard_queue_seen(q.now);
}

int
main(int argc, char **argv)
{
	static struct worker_config	 worker;
	static struct allow_list	 allow;
	struct prefork_config		 master;
	struct priv_ids			 ids;
	struct options			 o;
	struct address			 a;
	const char			*own_path, *why;

	fds_sane();
	main_hold_signals();
	upgrade_init(argc, argv);
	memset(&o, 0, sizeof(o));
	memset(&master, 0, sizeof(master));
	options_parse(argc, argv, &o);
	log_init(o.foreground);
	priv_lookup(o.user, o.group, &ids);
	priv_check(&ids);
	main_allowlist(&o, &allow);
	if (o.test_only) {
		if (o.socket_path != NULL &&
		    address_parse(o.socket_path, &a, &why) == -1)
			usage_error(why, o.socket_path);
		return 0;
	}

	main_check_fd_limit(o.max_conns);
	worker.listen_fd = main_listener(&o, &ids, &master, &own_path);
	listen_set_nonblocking(worker.listen_fd);
	if (allow.n > 0 && listen_is_unix(worker.listen_fd))
		log_warnx("-A or FCGI_WEB_SERVER_ADDRS: ignored on a unix "
		    "socket, which has no peer address; its file mode (-M) "
		    "says who may connect");
	else if (allow.n > 0) {
		worker.allow = &allow;
		/* A refused peer is logged once for the pool, not per child. */
		accept_share_log();
	}
	priv_drop(&ids);

	worker.max_body = o.max_body;
	worker.ascii = o.ascii;
	/* Compiled once here: a child only installs it (sandbox.c). */
	if ((worker.sandbox = !o.no_sandbox))
		sandbox_prepare(o.status_path != NULL);
	worker.io_timeout_sec = (int)o.io_timeout_sec;
	worker.max_requests = o.max_requests;
	worker.max_conns = (int)o.max_conns;
	worker.idle_timeout_sec = (int)o.idle_timeout_sec;
	worker.ready = prefork_ready;
	/* Leave a second of -T to finish the last request drained. */
	worker.drain_ms = o.stop_timeout_sec > 1 ?
	    (o.stop_timeout_sec - 1) * 1000LL : 0;
	master.children = (int)o.children;
	master.stop_timeout_sec = (int)o.stop_timeout_sec;
	master.listen_fd = worker.listen_fd;
	master.own_path = own_path;
	master.master_init = worker_preinit;
	master.child_main = worker_main;
	master.child_arg = &worker;
	if ((worker.status_path = o.status_path) != NULL) {
		/* Shared with every child to come: before the first fork. */
		/* The backlog is ours to tell only if we listened. */
		scoreboard_create((int)o.children, o.socket_path != NULL ?
		    (int)o.backlog : -1);
		queue_init(worker.listen_fd);
		master.tick = main_sample_queue;
	}
	log_serving();
	return prefork_run(&master);
}
