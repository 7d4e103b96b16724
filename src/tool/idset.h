/* SPDX-License-Identifier: ISC */
/* idset.h: a set of byte strings (record ids), to count distinct ones over a whole log. */
#ifndef IDW_IDSET_H
#define IDW_IDSET_H

#include <stddef.h>

struct idset;

struct idset	*idset_new(void);
/* 1 when the id is new (and now in the set), 0 when it was there, -1 out of memory. */
int		 idset_add(struct idset *, const char *, size_t);
size_t		 idset_count(const struct idset *);
void		 idset_free(struct idset *);

#endif
