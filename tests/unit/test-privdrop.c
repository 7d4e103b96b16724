/* SPDX-License-Identifier: ISC */
/* test-privdrop.c: looking up accounts and groups, and becoming an unprivileged user. */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"
#include "tap.h"

/* Exit codes of the child that drops. */
enum { DROP_OK, DROP_FAILED, DROP_IDS_WRONG, DROP_REGAINED };

static int
drop_in_child(const struct runas *ra)
{
	uid_t	 r, e, s;
	gid_t	 rg, eg, sg;
	pid_t	 pid;
	int	 status;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (runas_become(ra) == -1)
			_exit(DROP_FAILED);
		if (getresuid(&r, &e, &s) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
		    r != ra->uid || e != ra->uid || s != ra->uid || rg != ra->gid ||
		    eg != ra->gid || sg != ra->gid)
			_exit(DROP_IDS_WRONG);
		if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
			_exit(DROP_REGAINED);
		_exit(DROP_OK);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int
main(void)
{
	struct runas	 ra;
	struct passwd	*pw;
	gid_t		 gid;

	ok(runas_lookup("no-such-user-here", &ra) == -1, "an unknown user is refused");
	ok(runas_lookup("root", &ra) == -1, "root is refused: it would drop nothing");
	ok(group_lookup("no-such-group-here", &gid) == -1, "an unknown group is refused");
	ok(group_lookup("4321", &gid) == 0 && gid == 4321, "a numeric group is taken as a gid");
	ok(group_lookup("root", &gid) == 0 && gid == 0, "a group by name");

	if (running_as_root()) {
		if ((pw = getpwnam("nobody")) == NULL) {
			ok(0, "the account nobody exists");
			return done_testing();
		}
		ok(runas_lookup("nobody", &ra) == 0 && ra.uid == pw->pw_uid &&
		    ra.gid == pw->pw_gid && strcmp(ra.name, "nobody") == 0,
		    "nobody is looked up");
		is_int(drop_in_child(&ra), DROP_OK,
		    "as root: becoming nobody sets every uid and gid, and root cannot be regained");
		runas_free(&ra);
	} else {
		ok(runas_lookup("nobody", &ra) == 0, "nobody is looked up");
		is_int(drop_in_child(&ra), getuid() == ra.uid ? DROP_OK : DROP_FAILED,
		    "not root: becoming another account fails");
		runas_free(&ra);
		ra.name = NULL;
		ra.uid = getuid();
		ra.gid = getgid();
		is_int(drop_in_child(&ra), DROP_OK, "not root: becoming ourselves is a no-op");
	}
	return done_testing();
}
