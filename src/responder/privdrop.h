/* SPDX-License-Identifier: ISC */
/*
 * privdrop.h: who idwise-fcgi runs as. Started as root, it binds, then drops for good to the
 * --user account before it touches the log; it never serves as root unless told to.
 */
#ifndef IDW_PRIVDROP_H
#define IDW_PRIVDROP_H

#include <sys/types.h>

#include <stdbool.h>

struct runas {
	char	*name;		/* the account's name (for initgroups and messages) */
	uid_t	 uid;
	gid_t	 gid;		/* its primary group */
};

/* Look up the account NAME. Returns 0, or -1 (said why; unknown names too). */
int	runas_lookup(const char *name, struct runas *);
void	runas_free(struct runas *);
/* Look up a group by name or number. Returns 0, or -1 (said why). */
int	group_lookup(const char *name, gid_t *);

/* Any of the real, effective or saved user ids is 0. */
bool	running_as_root(void);

/*
 * Become the account for good: supplementary groups from the group database, then the
 * group, then the user (real, effective and saved ids). Then checks that every id is the
 * account's and that root cannot be regained. Without root, only "dropping" to the account
 * we already are is allowed. Returns 0, or -1 (said why; the process must not go on).
 */
int	runas_become(const struct runas *);

/*
 * Whether the process may dump core and be traced by its own user (PR_SET_DUMPABLE).
 * Not by default: its memory holds the credentials of requests and the digests of the
 * secrets. Changing user resets it, so it is set again after runas_become(). Returns 0,
 * or -1 (said why).
 */
int	core_dumps_allow(bool);

#endif
