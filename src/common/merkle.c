/* SPDX-License-Identifier: ISC */
/* merkle.c: RFC 6962's tree hashes, its right edge as leaves come, its proofs made and checked. */
#include "autoconf.h"

#include <string.h>

#include "merkle.h"
#include "util.h"

/* --- hashes ------------------------------------------------------------------------------ */

void
merkle_leaf_hash(const void *data, size_t len, merkle_hash out)
{
	static const unsigned char	 leaf_prefix = 0x00;

	sha256_pair(&leaf_prefix, 1, data, len, out);
}

void
merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out)
{
	unsigned char	 node[1 + 2 * MERKLE_HASH_LEN];

	node[0] = 0x01;
	memcpy(node + 1, left, MERKLE_HASH_LEN);
	memcpy(node + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	sha256(node, sizeof(node), out);
}

/* The largest power of two below len (len >= 2): where RFC 6962 splits a tree. */
static uint64_t
split_point(uint64_t len)
{
	return (uint64_t)1 << (63 - __builtin_clzll(len - 1));
}

/* --- the right edge ---------------------------------------------------------------------- */

void
merkle_edge_init(struct merkle_edge *e)
{
	memset(e, 0, sizeof(*e));
}

int
merkle_edge_push(struct merkle_edge *e, const merkle_hash leaf)
{
	merkle_hash	 h;
	uint64_t	 s;

	if (e->size == UINT64_MAX)
		return -1;
	/* Each 1 at the bottom of size is a subtree as large as the one being built: join. */
	memcpy(h, leaf, MERKLE_HASH_LEN);
	for (s = e->size; s & 1; s >>= 1)
		merkle_node_hash(e->hash[--e->n], h, h);
	memcpy(e->hash[e->n++], h, MERKLE_HASH_LEN);
	e->size++;
	return 0;
}

void
merkle_edge_root(const struct merkle_edge *e, merkle_hash out)
{
	unsigned	 i;

	if (e->n == 0) {
		sha256("", 0, out);
		return;
	}
	memcpy(out, e->hash[e->n - 1], MERKLE_HASH_LEN);
	for (i = e->n - 1; i-- > 0;)
		merkle_node_hash(e->hash[i], out, out);
}

bool
merkle_edge_fits(uint64_t size, unsigned n)
{
	return (unsigned)__builtin_popcountll(size) == n;
}

/* --- making proofs ----------------------------------------------------------------------- */

/* Ranges were found from the root down; a proof lists them from the leaf up. */
static void
take_ranges(struct merkle_proof *p, const uint64_t (*found)[2], size_t n)
{
	size_t	 i;

	memset(p, 0, sizeof(*p));
	p->n = n;
	for (i = 0; i < n; i++) {
		p->range[i].lo = found[n - 1 - i][0];
		p->range[i].hi = found[n - 1 - i][1];
	}
}

/* Note the range [lo, hi) as the next one found. */
static void
found_range(uint64_t (*found)[2], size_t *n, uint64_t lo, uint64_t hi)
{
	found[*n][0] = lo;
	found[(*n)++][1] = hi;
}

int
merkle_inclusion_plan(struct merkle_proof *p, uint64_t index, uint64_t size)
{
	uint64_t	 found[MERKLE_PROOF_MAX][2], lo = 0, hi = size, k;
	size_t		 n = 0;

	if (index >= size)
		return -1;
	while (hi - lo > 1) {
		k = split_point(hi - lo);
		if (index < lo + k) {
			found_range(found, &n, lo + k, hi);
			hi = lo + k;
		} else {
			found_range(found, &n, lo, lo + k);
			lo += k;
		}
	}
	take_ranges(p, (const uint64_t (*)[2])found, n);
	return 0;
}

int
merkle_consistency_plan(struct merkle_proof *p, uint64_t old, uint64_t size)
{
	uint64_t	 found[MERKLE_PROOF_MAX][2], lo = 0, hi = size, m = old, k;
	size_t		 n = 0;
	bool		 whole = true;	/* RFC 6962's b: [lo, hi) is still the old tree's start */

	if (old > size)
		return -1;
	if (old == 0 || old == size) {
		take_ranges(p, (const uint64_t (*)[2])found, 0);
		return 0;
	}
	for (;;) {
		if (m == hi - lo) {
			if (!whole)
				found_range(found, &n, lo, hi);
			break;
		}
		k = split_point(hi - lo);
		if (m <= k) {
			found_range(found, &n, lo + k, hi);
			hi = lo + k;
		} else {
			found_range(found, &n, lo, lo + k);
			m -= k;
			lo += k;
			whole = false;
		}
	}
	take_ranges(p, (const uint64_t (*)[2])found, n);
	return 0;
}

void
merkle_proof_push(struct merkle_proof *p, uint64_t index, const merkle_hash leaf)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (index >= p->range[i].lo && index < p->range[i].hi) {
			(void)merkle_edge_push(&p->range[i].tree, leaf);
			return;
		}
}

int
merkle_proof_hashes(const struct merkle_proof *p, merkle_hash *out)
{
	size_t	 i;

	for (i = 0; i < p->n; i++) {
		if (p->range[i].tree.size != p->range[i].hi - p->range[i].lo)
			return -1;
		merkle_edge_root(&p->range[i].tree, out[i]);
	}
	return 0;
}

/* --- checking proofs --------------------------------------------------------------------- */

static bool
same_hash(const merkle_hash a, const merkle_hash b)
{
	return memcmp(a, b, MERKLE_HASH_LEN) == 0;
}

/*
 * One step up from the node at fn (sn: the last node's number on this level) with the
 * proof's next hash c: hashes it into r (and into r2, when given, only on the left side).
 */
static void
step_up(uint64_t *fn, uint64_t *sn, const merkle_hash c, merkle_hash r, unsigned char *r2)
{
	if ((*fn & 1) || *fn == *sn) {
		merkle_node_hash(c, r, r);
		if (r2 != NULL)
			merkle_node_hash(c, r2, r2);
		/* A left child with no right sibling: climb past the levels it is alone on. */
		while (!(*fn & 1) && *fn != 0) {
			*fn >>= 1;
			*sn >>= 1;
		}
	} else if (r2 == NULL)
		merkle_node_hash(r, c, r);
	else
		merkle_node_hash(r2, c, r2);
	*fn >>= 1;
	*sn >>= 1;
}

bool
merkle_inclusion_verify(uint64_t index, uint64_t size, const merkle_hash leaf,
    const merkle_hash *proof, size_t n, const merkle_hash root)
{
	merkle_hash	 r;
	uint64_t	 fn = index, sn;
	size_t		 i;

	if (index >= size)
		return false;
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASH_LEN);
	for (i = 0; i < n; i++) {
		if (sn == 0)
			return false;
		step_up(&fn, &sn, proof[i], r, NULL);
	}
	return sn == 0 && same_hash(r, root);
}

bool
merkle_consistency_verify(uint64_t old, uint64_t size, const merkle_hash *proof, size_t n,
    const merkle_hash old_root, const merkle_hash new_root)
{
	merkle_hash	 fr, sr;
	uint64_t	 fn, sn;
	size_t		 i = 0;

	if (old > size)
		return false;
	if (old == size)
		return n == 0 && same_hash(old_root, new_root);
	if (old == 0)
		return n == 0;
	/* A complete old tree is a node of the new one: its root starts the path. */
	if ((old & (old - 1)) == 0)
		memcpy(fr, old_root, MERKLE_HASH_LEN);
	else if (n == 0)
		return false;
	else
		memcpy(fr, proof[i++], MERKLE_HASH_LEN);
	memcpy(sr, fr, MERKLE_HASH_LEN);
	fn = old - 1;
	sn = size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++) {
		if (sn == 0)
			return false;
		step_up(&fn, &sn, proof[i], fr, sr);
	}
	return sn == 0 && same_hash(fr, old_root) && same_hash(sr, new_root);
}
