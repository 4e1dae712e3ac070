/*
 * The listening socket.  This file owns obtaining it -- bound here from
 * -s ADDRESS (a unix path or TCP), passed by systemd (LISTEN_FDS), left on
 * fd 0 by a spawner, or kept across an in-place upgrade -- and checking
 * it.  Accepting on it is the children's job (accept.c, worker.c).
 * libfcgi's own FCGX_OpenSocket is not used: it removes a live server's
 * socket, takes the umask's mode, knows no IPv6 and exits the process on
 * errors.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fastcgi.h>

#include "address.h"
#include "listen.h"
#include "log.h"

/* systemd's first passed fd (sd_listen_fds(3): SD_LISTEN_FDS_START). */
#define LISTEN_SYSTEMD_FD	3

/* Return 1 if fd is a socket in the listening state. */
static int
listen_is_socket(int fd)
{
	int		 accepting = 0;
	socklen_t	 len = sizeof(accepting);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == -1)
		return 0;
	return accepting != 0;
}

/* Close fd in any program we might execute, except by our own choice. */
static void
listen_set_cloexec(int fd)
{
	int	 flags;

	if ((flags = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1)
		fatal("set close-on-exec on the listening socket");
}

/*
 * Use the socket a spawner left on fd 0 (FCGI_LISTENSOCK_FILENO).
 * Returns -1 if fd 0 is not a listening socket.
 */
int
listen_inherited(void)
{
	if (!listen_is_socket(FCGI_LISTENSOCK_FILENO))
		return -1;
	return FCGI_LISTENSOCK_FILENO;
}

/*
 * Remove a variable from the environment and wipe its text, which stays
 * in the process's initial environment block: /proc/PID/environ, of this
 * process and of every child it forks, shows that block, not environ.
 */
static void
listen_forget_variable(const char *name)
{
	char	*value;

	if ((value = getenv(name)) == NULL)
		return;
	value -= strlen(name) + 1;
	unsetenv(name);
	memset(value, 0, strlen(value));
}

/*
 * systemd socket activation (sd_listen_fds(3)): when LISTEN_PID is our
 * PID, LISTEN_FDS says how many sockets start at fd 3; we serve exactly
 * one.  The variables are removed either way, so that no child and no
 * program started later mistakes them for its own.  Returns the fd, or -1
 * when we were not socket-activated; exits 2 for more than one socket.
 */
int
listen_systemd(void)
{
	const char	*pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char		 mine[24];
	int		 fd = -1;

	snprintf(mine, sizeof(mine), "%ld", (long)getpid());
	if (pid != NULL && fds != NULL && strcmp(pid, mine) == 0) {
		if (strcmp(fds, "1") != 0) {
			fprintf(stderr, "%s: systemd passed LISTEN_FDS=%s "
			    "sockets; upcase-fcgi serves exactly one: give "
			    "the .socket unit one ListenStream=\n", PACKAGE,
			    fds);
			exit(2);
		}
		fd = LISTEN_SYSTEMD_FD;
		if (!listen_is_socket(fd))
			fatalx("systemd passed fd %d, which is not a listening "
			    "socket: use ListenStream= in the .socket unit",
			    fd);
		listen_set_cloexec(fd);
	}
	listen_forget_variable("LISTEN_PID");
	listen_forget_variable("LISTEN_FDS");
	listen_forget_variable("LISTEN_FDNAMES");
	return fd;
}

/*
 * Take over fd, the listening socket our previous image served (an
 * in-place upgrade, upgrade.c).  Exits if it is not a listening socket.
 */
int
listen_adopt(int fd)
{
	if (!listen_is_socket(fd))
		fatalx("upgrade: fd %d is not the listening socket", fd);
	listen_set_cloexec(fd);
	return fd;
}

/*
 * Make room for a new socket at path: refuse when a server answers there
 * or the path is not a socket; remove a stale socket nobody listens on.
 */
static void
listen_clear_path(const struct sockaddr_un *sun)
{
	struct stat	 st;
	int		 fd, rc, saved;

	if (lstat(sun->sun_path, &st) == -1) {
		if (errno == ENOENT)
			return;
		fatal("%s", sun->sun_path);
	}
	if (!S_ISSOCK(st.st_mode))
		fatalx("%s: exists and is not a socket; remove it or choose "
		    "another path", sun->sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(fd);
	if (rc == 0)
		fatalx("%s: another server is listening on it; stop it or "
		    "choose another path", sun->sun_path);
	if (saved != ECONNREFUSED)
		fatalx("%s: cannot tell whether it is in use: %s",
		    sun->sun_path, strerror(saved));
	if (unlink(sun->sun_path) == -1)
		fatal("remove stale socket %s", sun->sun_path);
	log_info("removed stale socket %s", sun->sun_path);
}

/* listen(2), saying when the kernel will cap the backlog. */
static void
listen_on(int fd, int backlog, const char *what)
{
	FILE	*f;
	int	 somaxconn = 0;

	/* The kernel silently caps the backlog at net.core.somaxconn. */
	if ((f = fopen("/proc/sys/net/core/somaxconn", "r")) != NULL) {
		if (fscanf(f, "%d", &somaxconn) == 1 && somaxconn > 0 &&
		    backlog > somaxconn)
			log_info("--backlog %d: the kernel caps it at %d "
			    "(net.core.somaxconn)", backlog, somaxconn);
		fclose(f);
	}
	if (listen(fd, backlog) == -1)
		fatal("listen %s", what);
}

/*
 * Refuse a socket directory that someone other than root and the user of
 * -u may write to, unless it is sticky: such a user could replace the
 * socket file with something else, or take it away.
 */
static void
listen_check_dir(const char *dir, const struct listen_config *cfg)
{
	struct stat	 st;
	uid_t		 uid = cfg->uid != (uid_t)-1 ? cfg->uid : geteuid();
	gid_t		 gid = cfg->gid != (gid_t)-1 ? cfg->gid : getegid();

	if (stat(dir, &st) == -1)
		fatal("socket directory %s", dir);
	if (st.st_mode & S_ISVTX)
		return;
	if ((st.st_uid != 0 && st.st_uid != uid) || st.st_mode & S_IWOTH ||
	    (st.st_mode & S_IWGRP && st.st_gid != 0 && st.st_gid != gid))
		fatalx("socket directory %s: writable by others than root and "
		    "the server's user; make it mode 0755 and owned by root or "
		    "that user (or sticky, as /tmp is)", dir);
}

/* Exit after removing the private directory of listen_unix: "what path". */
static void __attribute__((noreturn))
listen_unix_failed(const char *tmp_sock, const char *tmp_dir,
    const char *what, const char *path)
{
	int	 saved = errno;

	unlink(tmp_sock);
	rmdir(tmp_dir);
	errno = saved;
	fatal("%s %s", what, path);
}

/*
 * Bind and listen on a unix socket at path with the given mode and owner
 * (uid/gid of -1 leave them as they are).  Exits on failure.
 *
 * The socket is born in a private directory next to path (mode 0700, so
 * nobody else can reach into it) with its final mode (the umask) and
 * owner (lchown), and only then renamed to path: a user who may write the
 * socket's directory cannot swap the file between bind and chown and so
 * redirect the chown to a file of its choice.
 */
static int
listen_unix(const char *path, const struct listen_config *cfg)
{
	struct sockaddr_un	 sun;
	char			 dir[sizeof(sun.sun_path)];
	char			 tmp_dir[sizeof(sun.sun_path)];
	char			*slash;
	mode_t			 old_umask;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("%s: socket path longer than %zu bytes", path,
		    sizeof(sun.sun_path) - 1);
	strcpy(sun.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	listen_check_dir(dir, cfg);
	listen_clear_path(&sun);

	if (snprintf(tmp_dir, sizeof(tmp_dir), "%s/.upcase-fcgi.XXXXXX",
	    dir) >= (int)sizeof(tmp_dir) - 2 ||
	    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", tmp_dir) >=
	    (int)sizeof(sun.sun_path))
		fatalx("%s: the directory's path is too long for a temporary "
		    "socket next to it; use a shorter one", path);
	if (mkdtemp(tmp_dir) == NULL)
		fatal("create a private directory in %s", dir);
	/* The same length: only the X's changed. */
	memcpy(sun.sun_path, tmp_dir, strlen(tmp_dir));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		listen_unix_failed(sun.sun_path, tmp_dir, "socket for", path);
	/* bind gives a socket 0777 less the umask: the mode of -M. */
	old_umask = umask(~cfg->mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		listen_unix_failed(sun.sun_path, tmp_dir, "bind", path);
	umask(old_umask);
	if ((cfg->uid != (uid_t)-1 || cfg->gid != (gid_t)-1) &&
	    lchown(sun.sun_path, cfg->uid, cfg->gid) == -1)
		listen_unix_failed(sun.sun_path, tmp_dir, "chown", path);
	if (rename(sun.sun_path, path) == -1)
		listen_unix_failed(sun.sun_path, tmp_dir, "rename to", path);
	rmdir(tmp_dir);
	listen_on(fd, cfg->backlog, path);
	return fd;
}

/* A TCP socket bound to ai, or -1 with errno when socket() fails. */
static int
listen_tcp_socket(const struct addrinfo *ai, const char *what)
{
	int	 fd, on = 1, off = 0;

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol)) == -1)
		return -1;
	/* A restart must not wait for TIME_WAIT connections to expire. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		fatal("setsockopt SO_REUSEADDR %s", what);
	/* Every address: IPv4 peers too, as ::ffff:a.b.c.d. */
	if (ai->ai_family == AF_INET6 && ai->ai_flags & AI_PASSIVE &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == -1)
		fatal("setsockopt IPV6_V6ONLY %s", what);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		fatal("bind %s", what);
	return fd;
}

/*
 * Bind a TCP socket: to HOST:PORT (the first address the name resolves
 * to), or to every address for PORT and :PORT -- one IPv6 socket that
 * also takes IPv4, or plain IPv4 where the kernel has no IPv6.
 */
static int
listen_tcp(const struct address *a, const char *text,
    const struct listen_config *cfg)
{
	struct addrinfo		 hints, *res;
	struct sockaddr_in6	 any6;
	struct sockaddr_in	 any4;
	int			 fd, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (a->kind == ADDRESS_TCP_ANY) {
		memset(&any6, 0, sizeof(any6));
		any6.sin6_family = AF_INET6;
		any6.sin6_addr = in6addr_any;
		any6.sin6_port = htons((unsigned short)atoi(a->port));
		hints.ai_family = AF_INET6;
		hints.ai_flags = AI_PASSIVE;
		hints.ai_addr = (struct sockaddr *)&any6;
		hints.ai_addrlen = sizeof(any6);
		if ((fd = listen_tcp_socket(&hints, text)) == -1) {
			if (errno != EAFNOSUPPORT)
				fatal("socket %s", text);
			memset(&any4, 0, sizeof(any4));
			any4.sin_family = AF_INET;
			any4.sin_addr.s_addr = htonl(INADDR_ANY);
			any4.sin_port = any6.sin6_port;
			hints.ai_family = AF_INET;
			hints.ai_addr = (struct sockaddr *)&any4;
			hints.ai_addrlen = sizeof(any4);
			if ((fd = listen_tcp_socket(&hints, text)) == -1)
				fatal("socket %s", text);
		}
	} else {
		hints.ai_family = AF_UNSPEC;
		hints.ai_flags = AI_NUMERICSERV;
		if ((rc = getaddrinfo(a->host, a->port, &hints, &res)) != 0)
			fatalx("-s %s: %s", text, rc == EAI_SYSTEM ?
			    strerror(errno) : gai_strerror(rc));
		if ((fd = listen_tcp_socket(res, text)) == -1)
			fatal("socket %s", text);
		freeaddrinfo(res);
	}
	listen_on(fd, cfg->backlog, text);
	return fd;
}

/*
 * Bind -s ADDRESS (see address.c for its forms).  Exits 2 for an address
 * that is not one, 1 when it cannot be bound.
 */
int
listen_bind(const char *text, const struct listen_config *cfg,
    int *is_unix)
{
	struct address	 a;
	const char	*why;

	if (address_parse(text, &a, &why) == -1) {
		fprintf(stderr, "%s: -s %s: %s\n", PACKAGE, text, why);
		exit(2);
	}
	*is_unix = a.kind == ADDRESS_UNIX;
	if (a.kind == ADDRESS_UNIX)
		return listen_unix(text, cfg);
	return listen_tcp(&a, text, cfg);
}

/* Return 1 if the listening socket fd is a unix-domain socket. */
int
listen_is_unix(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		fatal("getsockname of the listening socket");
	return ss.ss_family == AF_UNIX;
}

/*
 * Children wait for readiness and then accept, so a child that loses the
 * race must get EAGAIN instead of blocking where no signal reaches it.
 */
void
listen_set_nonblocking(int fd)
{
	int	 flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		fatal("make the listening socket non-blocking");
}
