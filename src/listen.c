/*
 * The listening socket.  This file owns creating, checking and naming it;
 * accepting on it is the children's job (worker.c).  libfcgi's own
 * FCGX_OpenSocket is not used: it removes a live server's socket, takes
 * the umask's mode and exits the process on errors.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <fastcgi.h>

#include "listen.h"
#include "log.h"

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

/*
 * Bind and listen on a unix socket at path with the given mode and owner
 * (uid/gid of -1 leave them as they are).  Exits on failure.
 */
int
listen_unix(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct sockaddr_un	 sun;
	mode_t			 old_umask;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("%s: socket path longer than %zu bytes", path,
		    sizeof(sun.sun_path) - 1);
	strcpy(sun.sun_path, path);
	listen_clear_path(&sun);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	/* Born private; widened to the requested mode once owned right. */
	old_umask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	umask(old_umask);
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    chown(path, uid, gid) == -1)
		fatal("chown %s", path);
	if (chmod(path, mode) == -1)
		fatal("chmod %s", path);
	if (listen(fd, LISTEN_BACKLOG) == -1)
		fatal("listen %s", path);
	return fd;
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
