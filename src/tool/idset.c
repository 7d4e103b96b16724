/* SPDX-License-Identifier: ISC */
/*
 * idset.c: a set of byte strings: open addressing over one growing text buffer. The ids
 * are kept whole, so the count is exact (a set of digests would only be nearly so).
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idset.h"
#include "util.h"

#define FIRST_SLOTS	1024
#define FIRST_TEXT	(64 * 1024)

struct slot {
	uint64_t	 hash;		/* 0: empty */
	size_t		 off;		/* in text */
	size_t		 len;
};

struct idset {
	struct slot	*slots;
	size_t		 nslots;	/* a power of two */
	size_t		 count;
	char		*text;
	size_t		 used;
	size_t		 size;
};

/* FNV-1a, never 0 (0 marks an empty slot). */
static uint64_t
hash_bytes(const char *s, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h != 0 ? h : 1;
}

struct idset *
idset_new(void)
{
	struct idset	*set;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return NULL;
	set->nslots = FIRST_SLOTS;
	set->size = FIRST_TEXT;
	set->slots = calloc(set->nslots, sizeof(*set->slots));
	set->text = malloc(set->size);
	if (set->slots == NULL || set->text == NULL) {
		idset_free(set);
		return NULL;
	}
	return set;
}

/* The slot holding the id, or the empty one where it would go. */
static struct slot *
find(struct slot *slots, size_t nslots, const char *text, uint64_t hash, const char *s,
    size_t len)
{
	size_t	 i = (size_t)hash & (nslots - 1);

	while (slots[i].hash != 0 && (slots[i].hash != hash || slots[i].len != len ||
	    memcmp(text + slots[i].off, s, len) != 0))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static int
grow_slots(struct idset *set)
{
	struct slot	*slots, *to;
	size_t		 nslots = set->nslots * 2, i;

	if ((slots = calloc(nslots, sizeof(*slots))) == NULL)
		return -1;
	for (i = 0; i < set->nslots; i++) {
		if (set->slots[i].hash == 0)
			continue;
		to = &slots[(size_t)set->slots[i].hash & (nslots - 1)];
		while (to->hash != 0)
			to = to + 1 < slots + nslots ? to + 1 : slots;
		*to = set->slots[i];
	}
	free(set->slots);
	set->slots = slots;
	set->nslots = nslots;
	return 0;
}

int
idset_add(struct idset *set, const char *s, size_t len)
{
	struct slot	*slot;
	uint64_t	 hash = hash_bytes(s, len);

	slot = find(set->slots, set->nslots, set->text, hash, s, len);
	if (slot->hash != 0)
		return 0;
	if (grow_buffer(&set->text, &set->size, set->used + len, FIRST_TEXT) == -1)
		return -1;
	if ((set->count + 1) * 2 > set->nslots) {
		if (grow_slots(set) == -1)
			return -1;
		slot = find(set->slots, set->nslots, set->text, hash, s, len);
	}
	memcpy(set->text + set->used, s, len);
	slot->hash = hash;
	slot->off = set->used;
	slot->len = len;
	set->used += len;
	set->count++;
	return 1;
}

size_t
idset_count(const struct idset *set)
{
	return set->count;
}

void
idset_free(struct idset *set)
{
	if (set != NULL) {
		free(set->slots);
		free(set->text);
	}
	free(set);
}
