/* SPDX-License-Identifier: ISC */
/* auth.h: a request's credentials: secrets kept as digests, compared in constant time. */
#ifndef IDW_AUTH_H
#define IDW_AUTH_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

struct config;
struct credset;

/* The account the service runs as: besides root, the only owner a secret file may have. */
struct file_owner {
	uid_t	 uid;
	gid_t	 gid;
};

/*
 * A set of accepted secrets, kept only as SHA-256 digests, in memory left out of core
 * dumps. credset_add: 0, or -1 out of memory. credset_match compares with every digest.
 */
struct credset	*credset_new(void);
int	credset_add(struct credset *, const void *, size_t);
size_t	credset_count(const struct credset *);
bool	credset_match(const struct credset *, const void *, size_t);
void	credset_free(struct credset *);

/*
 * Read a secret file (one secret per line, surrounding blanks ignored, empty lines
 * skipped), refusing one that group members may write or others may touch, one owned by
 * anyone but root or the service's user, one its group may read unless that group is
 * root's or the service's, and a symlink unless it is root's or the service user's and
 * leads to such a file (a link of the service user's only to a file of its own). prefix
 * is put before every secret (basic: "user:").
 */
int	credset_load_file(struct credset *, const char *path, const char *prefix,
	    const struct file_owner *service, char *err, size_t errlen);

/* Does the request carry an accepted credential? authz is HTTP_AUTHORIZATION. */
bool	auth_permits(const struct config *, const char *authz, const char *custom_header);
/* The WWW-Authenticate value for a 401, or NULL. */
const char *auth_challenge(const struct config *);

#endif
