/*
 * The master process.  It never accepts a connection: it forks children,
 * sleeps in ppoll, reaps them and replaces those that exit.  Each child
 * says when it is ready to serve (a slot number on the ready pipe), which
 * tells a start-up failure from everything else: only children that die
 * before they are ready are restarted with a back-off that grows while
 * they keep failing, so that a crash loop cannot spin the CPU; a child
 * that served and then died on a request, or exited after -r requests, is
 * replaced at once.
 *
 * Signals: SIGHUP replaces every child gracefully and forgets any
 * back-off; SIGUSR2 re-executes the binary in place (upgrade.c) and the
 * new image retires the old children once its own are ready; SIGTERM or
 * SIGINT stops the children, waits for each to finish its request
 * (re-sending SIGTERM every second), kills what is left after the stop
 * timeout, and returns 0.  SIGUSR1 and SIGPIPE are ignored.  Children die
 * with the master (PR_SET_PDEATHSIG on Linux).
 */
#include <config.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "prefork.h"
#include "scoreboard.h"
#include "upgrade.h"

#define PREFORK_BACKOFF_MIN_MS	100
#define PREFORK_BACKOFF_MAX_MS	10000
/* At most this many lines about child deaths per this many ms. */
#define PREFORK_DEATH_LOG_LINES	10
#define PREFORK_DEATH_LOG_MS	10000
/* How often the master calls its tick (the status page's queue sample). */
#define PREFORK_TICK_MS		1000

struct prefork_slot {
	pid_t		 pid;		/* 0: empty */
	long long	 respawn_at_ms;	/* when an empty slot may be filled */
	int		 failed_starts;	/* children in a row that never served */
	int		 ready;		/* the child said it serves */
	int		 retiring;	/* told to stop: not a crash */
};

static struct prefork_slot	 slots[PREFORK_MAX_CHILDREN];
static int			 nslots;
/* Children of the image we replaced (SIGUSR2), until they have left. */
static pid_t			 old_children[2 * PREFORK_MAX_CHILDREN];
static int			 nold;
static int			 old_retired;	/* told to stop */
static pid_t			 master_pid;
static int			 ready_pipe[2] = { -1, -1 };
static int			 my_slot;	/* in a child */

static long long		 death_log_window_ms;
static int			 deaths_logged;	/* in this window */
static unsigned long		 deaths_unlogged;

static volatile sig_atomic_t	 got_chld, got_stop, got_hup, got_alarm,
				 got_usr2;

static void
prefork_on_signal(int sig)
{
	switch (sig) {
	case SIGCHLD:
		got_chld = 1;
		break;
	case SIGHUP:
		got_hup = 1;
		break;
	case SIGALRM:
		got_alarm = 1;
		break;
	case SIGUSR2:
		got_usr2 = 1;
		break;
	default:
		got_stop = 1;
		break;
	}
}

/* Wake the master's wait after ms milliseconds (0 disarms). */
static void
prefork_alarm_ms(long long ms)
{
	struct itimerval	 it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * In a child: tell the master that this child serves from now on.  Called
 * by the worker once its context is built (worker_config.ready).
 */
void
prefork_ready(void)
{
	ssize_t	 w;

	/* An int is far below PIPE_BUF: the write is atomic. */
	do
		w = write(ready_pipe[1], &my_slot, sizeof(my_slot));
	while (w == -1 && errno == EINTR);
	close(ready_pipe[1]);
	ready_pipe[1] = -1;
	scoreboard_ready();
}

static void
prefork_child(const struct prefork_config *cfg, const sigset_t *orig,
    int slot)
{
	struct sigaction	 sa;
	sigset_t		 stop_mask;
	int			 sig;
	static const int	 reset[] = { SIGCHLD, SIGHUP, SIGALRM,
				     SIGTERM, SIGINT };

	my_slot = slot;
	scoreboard_enter(slot);
	close(ready_pipe[0]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 0; sig < (int)(sizeof(reset) / sizeof(reset[0])); sig++)
		sigaction(reset[sig], &sa, NULL);
	/* Only the master upgrades; a stray SIGUSR2 must not kill a child. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGUSR2, &sa, NULL);
	prefork_alarm_ms(0);
	/*
	 * Until the child has its own handlers, a stop signal must wait
	 * (blocked) rather than kill it by default action; the child
	 * unblocks it when it is ready to stop cleanly.
	 */
	stop_mask = *orig;
	sigaddset(&stop_mask, SIGTERM);
	sigaddset(&stop_mask, SIGINT);
	sigaddset(&stop_mask, SIGHUP);
#ifdef HAVE_PRCTL
	/* An orphan must not keep serving; SIGTERM lets it finish first. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		log_warn("prctl PR_SET_PDEATHSIG");
#endif
	if (getppid() != master_pid)
		_exit(0);
	sigprocmask(SIG_SETMASK, &stop_mask, NULL);
	cfg->child_main(cfg->child_arg);
	_exit(1);
}

static void
prefork_spawn(const struct prefork_config *cfg, int i, const sigset_t *orig)
{
	struct prefork_slot	*slot = &slots[i];
	pid_t			 pid;

	if ((pid = fork()) == -1) {
		log_warn("fork");
		slot->respawn_at_ms = clock_now_ms() + PREFORK_BACKOFF_MAX_MS;
		return;
	}
	if (pid == 0)
		prefork_child(cfg, orig, i);
	slot->pid = pid;
	slot->ready = 0;
	slot->retiring = 0;
	scoreboard_spawned(i, pid);
}

static struct prefork_slot *
prefork_slot_of(pid_t pid)
{
	int	 i;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid == pid)
			return &slots[i];
	return NULL;
}

/* Forget pid if it was one of the previous image's children. */
static int
prefork_forget_old(pid_t pid)
{
	int	 i;

	for (i = 0; i < nold; i++)
		if (old_children[i] == pid) {
			old_children[i] = old_children[--nold];
			return 1;
		}
	return 0;
}

/* Read every slot number the children wrote on the ready pipe. */
static void
prefork_drain_ready(void)
{
	int	 idx[64];
	ssize_t	 n, k;

	while ((n = read(ready_pipe[0], idx, sizeof(idx))) > 0)
		for (k = 0; k < n / (ssize_t)sizeof(idx[0]); k++)
			if (idx[k] >= 0 && idx[k] < nslots &&
			    slots[idx[k]].pid != 0)
				slots[idx[k]].ready = 1;
}

/*
 * When the slot of a child that just died may be filled again: at once,
 * unless the child died before it was ready, which doubles a back-off
 * from PREFORK_BACKOFF_MIN_MS up to PREFORK_BACKOFF_MAX_MS.
 */
static long long
prefork_backoff_ms(struct prefork_slot *slot, int stopping)
{
	long long	 delay = PREFORK_BACKOFF_MIN_MS;
	int		 i;

	if (stopping || slot->retiring || slot->ready) {
		slot->failed_starts = 0;
		return 0;
	}
	for (i = 0; i < slot->failed_starts && delay < PREFORK_BACKOFF_MAX_MS;
	    i++)
		delay *= 2;
	slot->failed_starts++;
	return delay < PREFORK_BACKOFF_MAX_MS ? delay : PREFORK_BACKOFF_MAX_MS;
}

/*
 * At the end of a window in which deaths went unlogged, say how many.
 * Returns when the master must wake for that (0: no need).
 */
static long long
prefork_flush_deaths(long long now)
{
	long long	 end = death_log_window_ms + PREFORK_DEATH_LOG_MS;

	if (deaths_unlogged == 0)
		return 0;
	if (now < end)
		return end;
	log_warnx("%lu more child deaths in %d s were not logged",
	    deaths_unlogged, PREFORK_DEATH_LOG_MS / 1000);
	deaths_unlogged = 0;
	return 0;
}

/*
 * Log how a child ended: at most PREFORK_DEATH_LOG_LINES lines per
 * PREFORK_DEATH_LOG_MS, then a count of the rest at the window's end, so
 * that a stream of crash payloads cannot flood the log.
 */
static void
prefork_log_death(pid_t pid, int status, int was_ready, long long delay)
{
	char		 how[96], then[64];
	long long	 now = clock_now_ms();

	if (now - death_log_window_ms >= PREFORK_DEATH_LOG_MS) {
		prefork_flush_deaths(now);
		death_log_window_ms = now;
		deaths_logged = 0;
	}
	if (deaths_logged++ >= PREFORK_DEATH_LOG_LINES) {
		deaths_unlogged++;
		return;
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(how, sizeof(how), "killed by the sandbox (signal "
		    "%d, %s: a forbidden system call)", SIGSYS,
		    strsignal(SIGSYS));
	else if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(status));
	if (was_ready)
		snprintf(then, sizeof(then), "respawning");
	else
		snprintf(then, sizeof(then), "before it was ready; respawning "
		    "in %lld ms", delay);
	log_warnx("child %ld %s; %s", (long)pid, how, then);
}

/* Collect every child that has exited; log the ones that died badly. */
static void
prefork_reap(int stopping)
{
	struct prefork_slot	*slot;
	long long		 delay;
	pid_t			 pid;
	int			 status, planned;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((slot = prefork_slot_of(pid)) == NULL) {
			prefork_forget_old(pid);
			continue;
		}
		delay = prefork_backoff_ms(slot, stopping);
		/* Exit 0 unasked: -r requests served (recycled). */
		planned = stopping || slot->retiring || (WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0 && slot->ready);
		if (!planned)
			prefork_log_death(pid, status, slot->ready, delay);
		if (!stopping)
			scoreboard_exited((int)(slot - slots),
			    slot->retiring ? SB_EXIT_REPLACED :
			    planned ? SB_EXIT_RECYCLED :
			    WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS ?
			    SB_EXIT_SANDBOX : SB_EXIT_CRASHED, delay);
		slot->pid = 0;
		slot->ready = 0;
		slot->respawn_at_ms = clock_now_ms() + delay;
	}
}

/* After SIGKILL: wait for every child, however long the kernel takes. */
static void
prefork_reap_all(void)
{
	struct prefork_slot	*slot;
	pid_t			 pid;

	for (;;) {
		if ((pid = waitpid(-1, NULL, 0)) == -1) {
			if (errno == EINTR)
				continue;
			break;		/* ECHILD: none left */
		}
		if ((slot = prefork_slot_of(pid)) != NULL)
			slot->pid = 0;
		else
			prefork_forget_old(pid);
	}
}

static int
prefork_alive(void)
{
	int	 i, n = nold;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid != 0)
			n++;
	return n;
}

/* Whether every slot has a child that said it serves. */
static int
prefork_all_ready(void)
{
	int	 i;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid == 0 || !slots[i].ready)
			return 0;
	return 1;
}

/*
 * SIGHUP: ask every child to finish its request and make way for a new
 * one, and forget any back-off: the operator may just have fixed what
 * made children fail.
 */
static void
prefork_retire_all(void)
{
	long long	 now = clock_now_ms();
	int		 i;

	for (i = 0; i < nslots; i++) {
		slots[i].failed_starts = 0;
		if (slots[i].pid != 0) {
			slots[i].retiring = 1;
			kill(slots[i].pid, SIGTERM);
		} else
			slots[i].respawn_at_ms = now;
	}
}

static void
prefork_signal_all(int sig)
{
	int	 i;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid != 0)
			kill(slots[i].pid, sig);
	for (i = 0; i < nold; i++)
		kill(old_children[i], sig);
}

/*
 * The pool's stop: SIGTERM with PREFORK_STOP_DRAIN as its value, so that
 * children serve the connections already queued before they exit.
 */
static void
prefork_stop_all(void)
{
	union sigval	 drain;
	int		 i;

	drain.sival_int = PREFORK_STOP_DRAIN;
	for (i = 0; i < nslots; i++)
		if (slots[i].pid != 0)
			sigqueue(slots[i].pid, SIGTERM, drain);
	for (i = 0; i < nold; i++)
		sigqueue(old_children[i], SIGTERM, drain);
}

/*
 * Fill empty slots that are due; arm the timer for the next one, or for
 * the end of a window of unlogged deaths.
 */
static void
prefork_fill(const struct prefork_config *cfg, const sigset_t *orig)
{
	long long	 now = clock_now_ms(), next;
	int		 i;

	next = prefork_flush_deaths(now);
	for (i = 0; i < nslots; i++) {
		if (slots[i].pid != 0)
			continue;
		if (slots[i].respawn_at_ms <= now)
			prefork_spawn(cfg, i, orig);
		else if (next == 0 || slots[i].respawn_at_ms < next)
			next = slots[i].respawn_at_ms;
	}
	if (next != 0)
		prefork_alarm_ms(next - now);
}

/*
 * Sleep until a signal or a ready child; the only place signals land.
 * With a tick, wake at least every PREFORK_TICK_MS to run it.
 */
static void
prefork_wait(const struct prefork_config *cfg, const sigset_t *wait_mask)
{
	static long long	 last_tick_ms;
	struct timespec		 tick = { PREFORK_TICK_MS / 1000,
				     PREFORK_TICK_MS % 1000 * 1000000L };
	struct pollfd		 pfd;
	long long		 now;

	pfd.fd = ready_pipe[0];
	pfd.events = POLLIN;
	if (!got_chld && !got_stop && !got_hup && !got_alarm && !got_usr2)
		ppoll(&pfd, 1, cfg->tick != NULL ? &tick : NULL, wait_mask);
	prefork_drain_ready();
	if (cfg->tick != NULL &&
	    (now = clock_now_ms()) - last_tick_ms >= PREFORK_TICK_MS) {
		last_tick_ms = now;
		cfg->tick();
	}
}

/*
 * Stop the pool: refuse new connections on our own unix socket while the
 * children serve those already queued; tell every child to stop (re-sent
 * each second); SIGKILL what is left at the deadline.
 */
static void
prefork_stop(const struct prefork_config *cfg, const sigset_t *wait_mask)
{
	long long	 deadline;

	deadline = clock_now_ms() + (long long)cfg->stop_timeout_sec * 1000;
	if (cfg->own_path != NULL) {
		/*
		 * On a unix listener, SHUT_RD makes connect fail at once
		 * (ECONNREFUSED: nginx tries its next server) and still lets
		 * the queued connections be accepted.  Only on a socket we
		 * made: one from systemd lives on for our successor.
		 */
		if (shutdown(cfg->listen_fd, SHUT_RD) == -1)
			log_warn("shutdown of the listening socket");
		if (unlink(cfg->own_path) == -1 && errno != ENOENT)
			log_warn("remove %s (the next start replaces it)",
			    cfg->own_path);
	}
	log_info("stopping %d children", prefork_alive());
	prefork_stop_all();
	while (prefork_alive() > 0) {
		if (clock_now_ms() >= deadline) {
			log_warnx("%d children still busy after %d s; killing "
			    "them", prefork_alive(), cfg->stop_timeout_sec);
			prefork_signal_all(SIGKILL);
			prefork_reap_all();
			break;
		}
		prefork_alarm_ms(1000);
		got_alarm = 0;
		while (!got_chld && !got_alarm)
			sigsuspend(wait_mask);
		got_chld = 0;
		prefork_reap(1);
		if (got_alarm)
			prefork_stop_all();
	}
	prefork_alarm_ms(0);
}

/* SIGUSR2: hand the listening socket and every child to a new image. */
static void
prefork_upgrade(const struct prefork_config *cfg)
{
	pid_t	 live[2 * PREFORK_MAX_CHILDREN];
	int	 i, n = 0;

	prefork_reap(0);
	for (i = 0; i < nslots; i++)
		if (slots[i].pid != 0)
			live[n++] = slots[i].pid;
	for (i = 0; i < nold; i++)
		live[n++] = old_children[i];
	log_info("SIGUSR2: upgrading in place; %d children serve until the "
	    "new ones are ready", n);
	/* Returns only when the new image could not be started. */
	upgrade_exec(cfg->listen_fd, live, n);
}

/*
 * Run the master until SIGTERM or SIGINT.  Returns the exit status.
 */
int
prefork_run(const struct prefork_config *cfg)
{
	struct sigaction	 sa;
	sigset_t		 block, orig, wait_mask;
	int			 i;
	static const int	 sigs[] = { SIGCHLD, SIGHUP, SIGALRM,
				     SIGTERM, SIGINT, SIGUSR2 };

	master_pid = getpid();
	nslots = cfg->children;
	if ((nold = cfg->nold) > 0)
		memcpy(old_children, cfg->old_children, (size_t)nold *
		    sizeof(old_children[0]));
	sigemptyset(&block);
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		sigaddset(&block, sigs[i]);
	/*
	 * After an upgrade the previous image's mask is still in force,
	 * with our signals blocked (and any that came meanwhile pending),
	 * so orig is computed without them.
	 */
	sigprocmask(SIG_BLOCK, &block, &orig);
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		sigdelset(&orig, sigs[i]);
	wait_mask = orig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = prefork_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		sigaction(sigs[i], &sa, NULL);
	/* libfcgi keeps handlers it finds; it would replace SIG_IGN. */
	if (cfg->master_init != NULL)
		cfg->master_init();
	/* Signals the master has no use for must not end the service. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);

	if (pipe2(ready_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe");
	log_info("starting %d children", cfg->children);
	for (;;) {
		prefork_fill(cfg, &orig);
		prefork_wait(cfg, &wait_mask);
		got_alarm = 0;
		if (got_chld) {
			got_chld = 0;
			prefork_reap(0);
		}
		if (got_stop)
			break;
		if (got_hup) {
			got_hup = 0;
			log_info("SIGHUP: replacing %d children",
			    prefork_alive() - nold);
			prefork_retire_all();
		}
		if (got_usr2) {
			got_usr2 = 0;
			prefork_upgrade(cfg);
		}
		if (nold > 0 && !old_retired && prefork_all_ready()) {
			old_retired = 1;
			log_info("upgrade: %d new children serve; retiring "
			    "%d old ones", nslots, nold);
			for (i = 0; i < nold; i++)
				kill(old_children[i], SIGTERM);
			/* Reaped as they leave; still stopped with the rest. */
		}
	}
	prefork_stop(cfg, &wait_mask);
	log_info("stopped");
	return 0;
}
