/*
 * The listening socket's queue: connections the kernel has completed and
 * no child has accepted yet, and how many it may hold.
 */
#ifndef QUEUE_H
#define QUEUE_H

struct listen_queue {
	long	 now;		/* waiting to be accepted; -1: unknown */
	long	 len;		/* the most the kernel queues; -1: unknown */
};

void	queue_init(int);
void	queue_measure(struct listen_queue *);

#endif
