/*
 * no-ipv6.so: an LD_PRELOAD object for tests/listen-tcp.sh that makes the
 * worker see a kernel without IPv6: socket(AF_INET6, ...) fails with
 * EAFNOSUPPORT, as it does where IPv6 is not built in (or ipv6.disable=1),
 * and every other call goes through.  Then -s :PORT must fall back to one
 * IPv4 socket on every address.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <unistd.h>

int
socket(int domain, int type, int protocol)
{
	if (domain == AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return (int)syscall(SYS_socket, domain, type, protocol);
}
