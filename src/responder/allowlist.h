/* SPDX-License-Identifier: ISC */
/* allowlist.h: who may connect: addresses and CIDR blocks, and the check of one. */
#ifndef IDW_ALLOWLIST_H
#define IDW_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>

struct allowlist;

/*
 * "10.0.0.0/8, 2001:db8::1, ..." -> list. Host bits beyond a prefix are accepted and
 * cleared. err says which entry is wrong (by its number, never what it holds).
 */
int	allowlist_parse(const char *, struct allowlist **, char *err, size_t errlen);
/* Is addr (text, as REMOTE_ADDR) in the list? A NULL list permits any address. */
bool	allowlist_permits(const struct allowlist *, const char *addr);
void	allowlist_free(struct allowlist *);

#endif
