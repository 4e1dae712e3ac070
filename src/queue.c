/*
 * The length of the listen queue, from the kernel, without a heap call:
 * TCP_INFO for a TCP listener (for a socket in LISTEN state Linux reports
 * the accept queue in tcpi_unacked and its limit in tcpi_sacked), and one
 * sock_diag netlink request for a unix one (UNIX_DIAG_RQLEN: the pending
 * connections and the backlog), the figure `ss -xl` shows as Recv-Q.
 * The socket's family and inode are read once by queue_init, before a
 * child enters its sandbox, which allows only this kind of netlink socket.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#endif

#include "queue.h"

/* The socket state LISTEN, as sock_diag numbers states (TCP's numbers). */
#define QUEUE_STATE_LISTEN	10

static int		 queue_fd = -1;
static int		 queue_family;
static unsigned int	 queue_ino;

void
queue_init(int listen_fd)
{
	struct sockaddr_storage	 ss;
	struct stat		 st;
	socklen_t		 len = sizeof(ss);

	queue_fd = listen_fd;
	if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) == 0)
		queue_family = ss.ss_family;
	if (fstat(listen_fd, &st) == 0)
		queue_ino = (unsigned int)st.st_ino;
}

#ifdef __linux__
static void
queue_tcp(struct listen_queue *q)
{
	struct tcp_info	 ti;
	socklen_t	 len = sizeof(ti);

	if (getsockopt(queue_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    ti.tcpi_state != QUEUE_STATE_LISTEN)
		return;
	q->now = (long)ti.tcpi_unacked;
	q->len = (long)ti.tcpi_sacked;
}

static void
queue_unix(struct listen_queue *q)
{
	struct {
		struct nlmsghdr		 nlh;
		struct unix_diag_req	 req;
	} ask;
	union {
		struct nlmsghdr		 nlh;
		char			 bytes[512];
	} answer;
	struct unix_diag_msg	*msg;
	struct unix_diag_rqlen	*rq;
	struct rtattr		*rta;
	ssize_t			 n;
	int			 len, fd;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return;
	memset(&ask, 0, sizeof(ask));
	ask.nlh.nlmsg_len = sizeof(ask);
	ask.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	ask.nlh.nlmsg_flags = NLM_F_REQUEST;
	ask.req.sdiag_family = AF_UNIX;
	ask.req.udiag_states = 1U << QUEUE_STATE_LISTEN;
	ask.req.udiag_ino = queue_ino;
	ask.req.udiag_show = UDIAG_SHOW_RQLEN;
	ask.req.udiag_cookie[0] = ask.req.udiag_cookie[1] = ~0U;
	if (sendto(fd, &ask, sizeof(ask), 0, NULL, 0) != (ssize_t)sizeof(ask) ||
	    (n = recvfrom(fd, &answer, sizeof(answer), 0, NULL, NULL)) <
	    (ssize_t)NLMSG_LENGTH(sizeof(*msg)) ||
	    !NLMSG_OK(&answer.nlh, (unsigned int)n) ||
	    answer.nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY) {
		close(fd);
		return;
	}
	close(fd);
	msg = NLMSG_DATA(&answer.nlh);
	len = (int)(answer.nlh.nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
	for (rta = (struct rtattr *)(msg + 1); RTA_OK(rta, len);
	    rta = RTA_NEXT(rta, len))
		if (rta->rta_type == UNIX_DIAG_RQLEN &&
		    RTA_PAYLOAD(rta) >= sizeof(*rq)) {
			rq = RTA_DATA(rta);
			q->now = (long)rq->udiag_rqueue;
			q->len = (long)rq->udiag_wqueue;
		}
}
#endif

/* The queue now and its limit; -1 for what this system cannot tell. */
void
queue_measure(struct listen_queue *q)
{
	q->now = q->len = -1;
	if (queue_fd < 0)
		return;
#ifdef __linux__
	if (queue_family == AF_INET || queue_family == AF_INET6)
		queue_tcp(q);
	else if (queue_family == AF_UNIX)
		queue_unix(q);
#endif
}
