/*
 * plain-responder: the floor that upcase-fcgi is measured against.  A
 * plain libfcgi echo responder, linked with the shared libfcgi and used
 * the way its documentation shows (FCGX_Init, FCGX_InitRequest once, an
 * FCGX_Accept_r/FCGX_Finish_r loop), so libfcgi allocates on every request
 * exactly as it does in any ordinary application.  It reads stdin fully
 * into a static buffer and answers with the same CGI headers as
 * upcase-fcgi (200, text/plain, exact Content-Length) and the body
 * unchanged: no transform.
 *
 * It serves the listening socket on fd 0, as left by spawn-fcgi.  With
 * -c N the process forks N children that accept on it, like upcase-fcgi,
 * and waits; SIGTERM or SIGINT makes it stop them (SIGKILL after 5 s) and
 * exit 0.  It is a test and benchmark helper, not a product: no options
 * beyond -c, no respawning, no privilege handling.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/wait.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#define PLAIN_BODY_BYTES	(1024 * 1024)	/* as upcase-fcgi's -m 1M */
#define PLAIN_CHILDREN_MAX	64
#define PLAIN_STOP_SECONDS	5

static char			 plain_body[PLAIN_BODY_BYTES + 1];
static pid_t			 plain_children[PLAIN_CHILDREN_MAX];
static volatile sig_atomic_t	 plain_stop;
static volatile sig_atomic_t	 plain_timeout;

static void
plain_on_signal(int sig)
{
	if (sig == SIGALRM)
		plain_timeout = 1;
	else if (sig != SIGCHLD)
		plain_stop = 1;
}

static void
plain_respond(FCGX_Request *r, const char *status, const char *body,
    size_t len)
{
	char	 head[160];
	int	 n;

	/* snprintf of %s and %zu does not allocate in glibc. */
	n = snprintf(head, sizeof(head), "Status: %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n\r\n", status, len);
	FCGX_PutStr(head, n, r->out);
	if (len > 0)
		FCGX_PutStr(body, (int)len, r->out);
}

/* One child: the textbook libfcgi loop, until libfcgi sees SIGTERM. */
static void
plain_serve(void)
{
	static const char	 too_large[] = "413 Payload Too Large\n";
	FCGX_Request		 req;
	int			 got;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		fprintf(stderr, "plain-responder: libfcgi initialisation "
		    "failed\n");
		_exit(1);
	}
	while (FCGX_Accept_r(&req) >= 0) {
		got = FCGX_GetStr(plain_body, (int)sizeof(plain_body), req.in);
		if (got == (int)sizeof(plain_body)) {
			while (FCGX_GetStr(plain_body, (int)sizeof(plain_body),
			    req.in) > 0)
				continue;
			plain_respond(&req, "413 Payload Too Large", too_large,
			    sizeof(too_large) - 1);
		} else if (FCGX_GetError(req.in) == 0)
			plain_respond(&req, "200 OK", plain_body,
			    got > 0 ? (size_t)got : 0);
		FCGX_Finish_r(&req);
	}
	_exit(0);
}

static void
plain_kill_all(int children, int sig)
{
	int	 i;

	for (i = 0; i < children; i++)
		if (plain_children[i] > 0)
			kill(plain_children[i], sig);
}

static int
plain_reap(int children, int block)
{
	pid_t	 pid;
	int	 i, status, gone = 0;

	while ((pid = waitpid(-1, &status, block ? 0 : WNOHANG)) > 0) {
		for (i = 0; i < children; i++)
			if (plain_children[i] == pid)
				plain_children[i] = 0;
		gone++;
		block = 0;
	}
	return gone;
}

static int
plain_alive(int children)
{
	int	 i, n = 0;

	for (i = 0; i < children; i++)
		n += plain_children[i] > 0;
	return n;
}

/* The master: fork the children, then wait for a stop signal. */
int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	sigset_t		 block, old;
	int			 ch, i, children = 1;

	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch != 'c' || (children = atoi(optarg)) < 1 ||
		    children > PLAIN_CHILDREN_MAX) {
			fprintf(stderr, "usage: plain-responder [-c 1..%d] "
			    "(listening socket on fd 0)\n",
			    PLAIN_CHILDREN_MAX);
			return 2;
		}
	}

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &old);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = plain_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);

	for (i = 0; i < children; i++) {
		if ((plain_children[i] = fork()) == -1) {
			perror("plain-responder: fork");
			plain_kill_all(i, SIGKILL);
			return 1;
		}
		if (plain_children[i] == 0) {
			/* Default handlers, so libfcgi installs its own. */
			sa.sa_handler = SIG_DFL;
			sigaction(SIGTERM, &sa, NULL);
			sigaction(SIGINT, &sa, NULL);
			sigaction(SIGALRM, &sa, NULL);
#ifdef HAVE_SYS_PRCTL_H
			prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
			sigprocmask(SIG_SETMASK, &old, NULL);
			plain_serve();
		}
	}

	/* SIGCHLD stays blocked but still ends sigsuspend via the mask. */
	sa.sa_handler = plain_on_signal;
	sigaction(SIGCHLD, &sa, NULL);
	sigdelset(&old, SIGTERM);
	sigdelset(&old, SIGINT);
	sigdelset(&old, SIGCHLD);
	sigdelset(&old, SIGALRM);
	while (!plain_stop && plain_alive(children) > 0) {
		sigsuspend(&old);
		plain_reap(children, 0);
	}
	plain_kill_all(children, SIGTERM);
	alarm(PLAIN_STOP_SECONDS);
	while (!plain_timeout && plain_alive(children) > 0) {
		if (plain_reap(children, 0) == 0)
			sigsuspend(&old);
	}
	plain_kill_all(children, SIGKILL);
	while (plain_alive(children) > 0 && plain_reap(children, 1) > 0)
		continue;
	/* Children that all died on their own are an error. */
	return plain_stop ? 0 : 1;
}
