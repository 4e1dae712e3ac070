/*
 * The master process.  It never accepts a connection: it forks children,
 * sleeps in sigsuspend, reaps them and replaces those that die, with a
 * back-off that grows while children keep dying young so that a crash loop
 * cannot spin the CPU.  SIGHUP replaces every child gracefully; SIGTERM or
 * SIGINT stops them, waits for each to finish its request (re-sending
 * SIGTERM every second), kills what is left after the stop timeout, and
 * returns 0.  Children die with the master (PR_SET_PDEATHSIG on Linux).
 */
#include <config.h>

#include <sys/types.h>
#include <sys/time.h>
#include <sys/wait.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "prefork.h"

/* A child that dies within this many ms of its start counts as a crash. */
#define PREFORK_YOUNG_MS	1000
#define PREFORK_BACKOFF_MIN_MS	100
#define PREFORK_BACKOFF_MAX_MS	10000

struct prefork_slot {
	pid_t		 pid;		/* 0: empty */
	long long	 started_ms;
	long long	 respawn_at_ms;	/* when an empty slot may be filled */
	int		 young_deaths;	/* consecutive deaths soon after start */
	int		 retiring;	/* told to stop by SIGHUP: not a crash */
};

static struct prefork_slot	 slots[PREFORK_MAX_CHILDREN];
static int			 nslots;
static pid_t			 master_pid;

static volatile sig_atomic_t	 got_chld, got_stop, got_hup, got_alarm;

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
	default:
		got_stop = 1;
		break;
	}
}

static long long
prefork_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wake the master's sigsuspend after ms milliseconds (0 disarms). */
static void
prefork_alarm_ms(long long ms)
{
	struct itimerval	 it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void
prefork_child(const struct prefork_config *cfg, const sigset_t *orig)
{
	struct sigaction	 sa;
	sigset_t		 stop_mask;
	int			 sig;
	static const int	 reset[] = { SIGCHLD, SIGHUP, SIGALRM,
				     SIGTERM, SIGINT };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 0; sig < (int)(sizeof(reset) / sizeof(reset[0])); sig++)
		sigaction(reset[sig], &sa, NULL);
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
prefork_spawn(const struct prefork_config *cfg, struct prefork_slot *slot,
    const sigset_t *orig)
{
	pid_t	 pid;

	if ((pid = fork()) == -1) {
		log_warn("fork");
		slot->respawn_at_ms = prefork_now_ms() + PREFORK_BACKOFF_MAX_MS;
		return;
	}
	if (pid == 0)
		prefork_child(cfg, orig);
	slot->pid = pid;
	slot->started_ms = prefork_now_ms();
	slot->retiring = 0;
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

/* Back-off for the next start of a slot whose child just died. */
static long long
prefork_backoff_ms(struct prefork_slot *slot, long long now, int stopping)
{
	long long	 delay = PREFORK_BACKOFF_MIN_MS;
	int		 i;

	if (stopping || slot->retiring ||
	    now - slot->started_ms >= PREFORK_YOUNG_MS) {
		slot->young_deaths = 0;
		return 0;
	}
	for (i = 1; i < slot->young_deaths && delay < PREFORK_BACKOFF_MAX_MS;
	    i++)
		delay *= 2;
	slot->young_deaths++;
	return delay < PREFORK_BACKOFF_MAX_MS ? delay : PREFORK_BACKOFF_MAX_MS;
}

/* Collect every child that has exited; log the ones that died badly. */
static int
prefork_reap(int stopping)
{
	struct prefork_slot	*slot;
	long long		 now, delay;
	pid_t			 pid;
	int			 status, reaped = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((slot = prefork_slot_of(pid)) == NULL)
			continue;
		reaped++;
		now = prefork_now_ms();
		delay = prefork_backoff_ms(slot, now, stopping);
		slot->pid = 0;
		slot->respawn_at_ms = now + delay;
		if (stopping || slot->retiring)
			continue;
		if (WIFSIGNALED(status))
			log_warnx("child %ld killed by signal %d (%s); "
			    "respawning in %lld ms", (long)pid,
			    WTERMSIG(status), strsignal(WTERMSIG(status)),
			    delay);
		else if (WEXITSTATUS(status) != 0)
			log_warnx("child %ld exited with status %d; "
			    "respawning in %lld ms", (long)pid,
			    WEXITSTATUS(status), delay);
	}
	return reaped;
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
	}
}

static int
prefork_alive(void)
{
	int	 i, n = 0;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid != 0)
			n++;
	return n;
}

/* SIGHUP: ask every child to finish its request and make way for a new one. */
static void
prefork_retire_all(void)
{
	int	 i;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid != 0) {
			slots[i].retiring = 1;
			kill(slots[i].pid, SIGTERM);
		}
}

static void
prefork_signal_all(int sig)
{
	int	 i;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid != 0)
			kill(slots[i].pid, sig);
}

/* Fill empty slots that are due; arm the timer for the next one. */
static void
prefork_fill(const struct prefork_config *cfg, const sigset_t *orig)
{
	long long	 now = prefork_now_ms(), next = 0;
	int		 i;

	for (i = 0; i < nslots; i++) {
		if (slots[i].pid != 0)
			continue;
		if (slots[i].respawn_at_ms <= now)
			prefork_spawn(cfg, &slots[i], orig);
		else if (next == 0 || slots[i].respawn_at_ms < next)
			next = slots[i].respawn_at_ms;
	}
	if (next != 0)
		prefork_alarm_ms(next - now);
}

/* SIGTERM every child, re-sent each second, then SIGKILL at the deadline. */
static void
prefork_stop(const struct prefork_config *cfg, const sigset_t *wait_mask)
{
	long long	 deadline;

	deadline = prefork_now_ms() + (long long)cfg->stop_timeout_sec * 1000;
	log_info("stopping %d children", prefork_alive());
	prefork_signal_all(SIGTERM);
	while (prefork_alive() > 0) {
		if (prefork_now_ms() >= deadline) {
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
			prefork_signal_all(SIGTERM);
	}
	prefork_alarm_ms(0);
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
				     SIGTERM, SIGINT };

	master_pid = getpid();
	nslots = cfg->children;
	sigemptyset(&block);
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &orig);
	wait_mask = orig;
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		sigdelset(&wait_mask, sigs[i]);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = prefork_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		sigaction(sigs[i], &sa, NULL);

	log_info("starting %d children", cfg->children);
	for (;;) {
		prefork_fill(cfg, &orig);
		while (!got_chld && !got_stop && !got_hup && !got_alarm)
			sigsuspend(&wait_mask);
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
			    prefork_alive());
			prefork_retire_all();
		}
	}
	prefork_stop(cfg, &wait_mask);
	log_info("stopped");
	return 0;
}
