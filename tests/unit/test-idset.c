/* SPDX-License-Identifier: ISC */
/* test-idset.c: the set idwise-log stats counts distinct ids with: exact, through growth. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "idset.h"
#include "tap.h"

#define MANY	100000

int
main(void)
{
	struct idset	*set;
	char		 id[64];
	int		 i, fresh = 0, again = 0;

	if ((set = idset_new()) == NULL) {
		ok(0, "makes a set");
		return done_testing();
	}
	is_int(idset_add(set, "a", 1), 1, "a new id is new");
	is_int(idset_add(set, "a", 1), 0, "the same id again is not");
	is_int(idset_add(set, "ab", 2), 1, "a longer id with the same start is new");
	is_int(idset_add(set, "a\0b", 3), 1, "ids are bytes: an embedded NUL counts");
	is_int(idset_add(set, "", 0), 1, "the empty id is an id");
	is_int(idset_add(set, "", 0), 0, "and is found again");
	is_int(idset_count(set), 4, "four distinct ids");
	for (i = 0; i < MANY; i++) {
		snprintf(id, sizeof(id), "81e74ef5-e8e2-4d94-8ed9-%012d", i);
		fresh += idset_add(set, id, strlen(id)) == 1;
	}
	for (i = 0; i < MANY; i += 7) {
		snprintf(id, sizeof(id), "81e74ef5-e8e2-4d94-8ed9-%012d", i);
		again += idset_add(set, id, strlen(id)) == 0;
	}
	is_int(fresh, MANY, "100000 distinct ids are each new, through many resizes");
	is_int(again, (MANY + 6) / 7, "every seventh of them is found again after the resizes");
	is_int(idset_count(set), MANY + 4, "the count is exact");
	snprintf(id, sizeof(id), "81e74ef5-e8e2-4d94-8ed9-%012d", MANY);
	is_int(idset_add(set, id, strlen(id)), 1, "an id never added is new");
	idset_free(set);
	return done_testing();
}
