/* SPDX-License-Identifier: ISC */
/* privdrop.c: looking up the --user account and the socket's group, and becoming the user. */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/prctl.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"
#include "util.h"

/*
 * After getpwnam() or getgrnam() found nothing: no such entry (errno 0, or ENOENT or ESRCH
 * from some libcs), or the look-up itself failed.
 */
static void
not_found(const char *option, const char *name, const char *what, const char *call)
{
	if (errno == 0 || errno == ENOENT || errno == ESRCH)
		msg("%s %s: no such %s", option, name, what);
	else
		msg_errno("%s %s: %s", option, name, call);
}

int
runas_lookup(const char *name, struct runas *ra)
{
	struct passwd	*pw;

	memset(ra, 0, sizeof(*ra));
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		not_found("--user", name, "user", "getpwnam");
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		msg("--user %s: %s is root: name an unprivileged account", name,
		    pw->pw_uid == 0 ? "the user" : "its group");
		return -1;
	}
	if ((ra->name = strdup(name)) == NULL) {
		msg_errno("strdup");
		return -1;
	}
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	return 0;
}

void
runas_free(struct runas *ra)
{
	free(ra->name);
	memset(ra, 0, sizeof(*ra));
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int
group_lookup(const char *name, gid_t *gid)
{
	struct group	*gr;
	long long	 v;

	/* Digits only (no sign: a '+' parse_number would take is a name here). */
	if (all_digits(name)) {
		if (parse_number(name, 10, 0, (long long)(gid_t)-1 - 1, &v) == -1) {
			msg("--socket-group %s: not a group id", name);
			return -1;
		}
		*gid = (gid_t)v;
		return 0;
	}
	errno = 0;
	if ((gr = getgrnam(name)) == NULL) {
		not_found("--socket-group", name, "group", "getgrnam");
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

bool
running_as_root(void)
{
	uid_t	 r, e, s;

	if (getresuid(&r, &e, &s) == -1)
		return true;	/* cannot happen; assume the worst */
	return r == 0 || e == 0 || s == 0;
}

/* Every id is the account's, and the kernel refuses to give root back. */
static int
check_dropped(const struct runas *ra)
{
	uid_t	 r, e, s;
	gid_t	 rg, eg, sg;

	if (getresuid(&r, &e, &s) == -1 || getresgid(&rg, &eg, &sg) == -1) {
		msg_errno("getresuid");
		return -1;
	}
	if (r != ra->uid || e != ra->uid || s != ra->uid || rg != ra->gid ||
	    eg != ra->gid || sg != ra->gid) {
		msg("--user %s: the user and group ids did not all change", ra->name);
		return -1;
	}
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1 || setegid(0) != -1) {
		msg("--user %s: root could be regained after dropping to it", ra->name);
		return -1;
	}
	return 0;
}

int
runas_become(const struct runas *ra)
{
	if (!running_as_root()) {
		if (getuid() == ra->uid && geteuid() == ra->uid)
			return 0;
		msg("--user %s: only root can switch users (running as uid %lu)", ra->name,
		    (unsigned long)geteuid());
		return -1;
	}
	if (initgroups(ra->name, ra->gid) == -1) {
		msg_errno("--user %s: initgroups", ra->name);
		return -1;
	}
	if (setresgid(ra->gid, ra->gid, ra->gid) == -1) {
		msg_errno("--user %s: setresgid", ra->name);
		return -1;
	}
	if (setresuid(ra->uid, ra->uid, ra->uid) == -1) {
		msg_errno("--user %s: setresuid", ra->name);
		return -1;
	}
	return check_dropped(ra);
}

int
core_dumps_allow(bool allow)
{
	if (prctl(PR_SET_DUMPABLE, allow ? 1 : 0, 0, 0, 0) == -1) {
		msg_errno("prctl PR_SET_DUMPABLE");
		return -1;
	}
	return 0;
}
