/*
 * Privileges.  The daemon may start as root to bind a socket in /run; it
 * never serves a request as root.  Without root, -u and -g are refused
 * rather than silently ignored.
 */
#include <config.h>

#include <sys/types.h>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "policy.h"
#include "priv.h"
#include "log.h"

/*
 * Resolve -u USER and -g GROUP (names or numbers) into ids.  Without -g,
 * the user's primary group is used.  Exits when a name is unknown.
 */
void
priv_lookup(const char *user, const char *group, struct priv_ids *ids)
{
	struct passwd	*pw;
	struct group	*gr;
	long		 n;

	ids->uid = (uid_t)-1;
	ids->gid = (gid_t)-1;
	if (user != NULL) {
		if ((pw = getpwnam(user)) != NULL) {
			ids->uid = pw->pw_uid;
			ids->gid = pw->pw_gid;
		} else if (policy_parse_count(user, 0, 0x7fffffff, &n) == 0)
			ids->uid = (uid_t)n;
		else
			fatalx("-u %s: no such user", user);
	}
	if (group != NULL) {
		if ((gr = getgrnam(group)) != NULL)
			ids->gid = gr->gr_gid;
		else if (policy_parse_count(group, 0, 0x7fffffff, &n) == 0)
			ids->gid = (gid_t)n;
		else
			fatalx("-g %s: no such group", group);
	}
}

/*
 * Exit unless priv_drop() can succeed with ids: as root, -u is required
 * and may name neither root nor a uid without a group, and the group may
 * not be root's; without root, -u and -g must name the ids the process
 * already has.  Called before the socket is bound, so that a
 * refused start leaves no socket file behind.
 */
void
priv_check(const struct priv_ids *ids)
{
	if (geteuid() != 0) {
		if ((ids->uid != (uid_t)-1 && ids->uid != geteuid()) ||
		    (ids->gid != (gid_t)-1 && ids->gid != getegid()))
			fatalx("-u/-g: changing user or group needs root");
		return;
	}
	if (ids->uid == (uid_t)-1)
		fatalx("refusing to serve requests as root: give -u USER "
		    "(e.g. -u www-data), or start under spawn-fcgi -u");
	if (ids->uid == 0)
		fatalx("-u: refusing to serve requests as root");
	if (ids->gid == (gid_t)-1)
		fatalx("-u %lu: no such user in the passwd database, so no "
		    "primary group to take: give -g GROUP too",
		    (unsigned long)ids->uid);
	if (ids->gid == 0)
		fatalx("-g: refusing to serve requests as group root (gid 0); "
		    "give -g another group");
}

/* Become ids for good (after priv_check() accepted them). */
void
priv_drop(const struct priv_ids *ids)
{
	priv_check(ids);
	if (geteuid() != 0)
		return;
	if (setgroups(1, &ids->gid) == -1)
		fatal("setgroups");
	if (setresgid(ids->gid, ids->gid, ids->gid) == -1)
		fatal("setresgid %lu", (unsigned long)ids->gid);
	if (setresuid(ids->uid, ids->uid, ids->uid) == -1)
		fatal("setresuid %lu", (unsigned long)ids->uid);
	if (setuid(0) != -1)
		fatalx("dropped to uid %lu but could regain root",
		    (unsigned long)ids->uid);
}
