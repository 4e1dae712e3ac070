/*
 * upcase-fcgi: a preforked FastCGI responder that answers every request
 * with its body uppercased.  main() is the daemon's life in order: make
 * fds 0-2 valid, read options, obtain the listening socket, drop root,
 * hand over to the master (prefork.c), which runs the children (worker.c).
 */
#include <config.h>

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "policy.h"
#include "prefork.h"
#include "priv.h"
#include "upper.h"
#include "worker.h"

#define DEFAULT_MAX_BODY	(1024 * 1024)	/* nginx's client_max_body_size */
#define DEFAULT_SOCKET_MODE	0660
#define DEFAULT_STOP_TIMEOUT_SEC 10

struct options {
	long		 children;
	size_t		 max_body;
	const char	*socket_path;
	mode_t		 socket_mode;
	const char	*user;
	const char	*group;
	long		 stop_timeout_sec;
	int		 foreground;
	int		 ascii;
};

enum { OPT_ASCII = 256 };

static const struct option long_options[] = {
	{ "ascii",		no_argument,		NULL, OPT_ASCII },
	{ "children",		required_argument,	NULL, 'c' },
	{ "foreground",		no_argument,		NULL, 'f' },
	{ "group",		required_argument,	NULL, 'g' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "socket-mode",	required_argument,	NULL, 'M' },
	{ "max-body",		required_argument,	NULL, 'm' },
	{ "socket",		required_argument,	NULL, 's' },
	{ "stop-timeout",	required_argument,	NULL, 'T' },
	{ "user",		required_argument,	NULL, 'u' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*out = status == 0 ? stdout : stderr;

	fprintf(out,
	    "usage: %s [-fhV] [--ascii] [-c children] [-m max-body] "
	    "[-T seconds]\n"
	    "       %*s [-u user] [-g group] [-s socket [-M mode]]\n"
	    "\n"
	    "  -c, --children N      children to prefork (default: online "
	    "CPUs)\n"
	    "  -m, --max-body SIZE   longest body served, k or M suffix "
	    "(default: 1M)\n"
	    "  -s, --socket PATH     bind this unix socket (default: use the "
	    "socket on fd 0)\n"
	    "  -M, --socket-mode MODE  octal mode of -s (default: 0660)\n"
	    "  -u, --user USER       drop root to this user (owns -s)\n"
	    "  -g, --group GROUP     and this group (default: USER's)\n"
	    "  -T, --stop-timeout S  grace for busy children on stop "
	    "(default: 10)\n"
	    "  -f, --foreground      log to stderr instead of syslog\n"
	    "      --ascii           uppercase a-z only\n"
	    "  -h, --help            show this help\n"
	    "  -V, --version         show the version\n"
	    "\nSee upcase-fcgi(8).\n",
	    PACKAGE, (int)strlen(PACKAGE), "");
	exit(status);
}

static void __attribute__((noreturn))
usage_error(const char *what, const char *value)
{
	fprintf(stderr, "%s: %s: %s\n", PACKAGE, what, value);
	fprintf(stderr, "Try '%s --help'.\n", PACKAGE);
	exit(2);
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

	while ((ch = getopt_long(argc, argv, "c:fg:hM:m:s:T:u:V",
	    long_options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (policy_parse_count(optarg, 1, PREFORK_MAX_CHILDREN,
			    &o->children) == -1)
				usage_error("-c: not a number of children "
				    "from 1 to 1024", optarg);
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
		case 's':
			o->socket_path = optarg;
			break;
		case 'T':
			if (policy_parse_count(optarg, 0, 3600,
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
		default:
			fprintf(stderr, "Try '%s --help'.\n", PACKAGE);
			exit(2);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument", argv[optind]);
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

int
main(int argc, char **argv)
{
	static struct worker_config	 worker;
	struct prefork_config		 master;
	struct priv_ids			 ids;
	struct options			 o;
	int				 status;

	fds_sane();
	memset(&o, 0, sizeof(o));
	options_parse(argc, argv, &o);
	log_init(o.foreground);
	priv_lookup(o.user, o.group, &ids);
	priv_check(&ids);

	if (o.socket_path != NULL)
		worker.listen_fd = listen_unix(o.socket_path, o.socket_mode,
		    ids.uid, ids.gid);
	else if ((worker.listen_fd = listen_inherited()) == -1) {
		fprintf(stderr, "%s: no listening socket: fd 0 is not one; "
		    "start under spawn-fcgi or give -s PATH\n", PACKAGE);
		exit(2);
	}
	listen_set_nonblocking(worker.listen_fd);
	priv_drop(&ids);

	worker.max_body = o.max_body;
	worker.ascii = o.ascii;
	master.children = (int)o.children;
	master.stop_timeout_sec = (int)o.stop_timeout_sec;
	master.child_main = worker_main;
	master.child_arg = &worker;
	log_serving();
	status = prefork_run(&master);
	if (o.socket_path != NULL && unlink(o.socket_path) == -1 &&
	    errno != ENOENT)
		log_warn("remove %s (the next start replaces it)",
		    o.socket_path);
	return status;
}
