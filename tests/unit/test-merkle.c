/* SPDX-License-Identifier: ISC */
/*
 * test-merkle.c: the RFC 6962 tree against the published test vectors of Certificate
 * Transparency's implementations (the 8 leaves, the root of each size, their inclusion and
 * consistency proofs), then every proof of every tree up to 70 leaves against a plain
 * recursive reading of RFC 6962 written here, and damaged proofs refused.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "merkle.h"
#include "tap.h"
#include "util.h"

/* --- the published vectors --------------------------------------------------------------- */

static const char *const leaves_hex[] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

static const char *const roots_hex[] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

#define H_96A2	"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
#define H_5F08	"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
#define H_6B47	"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
#define H_BC1A	"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
#define H_CA85	"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
#define H_D37E	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
#define H_FAC5	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
#define H_6E34	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
#define H_0EBC	"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
#define H_B086	"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"

/* Inclusion: leaf index from 0 (the published tables count from 1), tree size, proof. */
static const struct {
	uint64_t	 index, size;
	const char	*proof[4];
} inclusions[] = {
	{ 0, 1, { NULL } },
	{ 0, 8, { H_96A2, H_5F08, H_6B47, NULL } },
	{ 5, 8, { H_BC1A, H_CA85, H_D37E, NULL } },
	{ 2, 3, { H_FAC5, NULL } },
	{ 1, 5, { H_6E34, H_5F08, H_BC1A, NULL } },
};

static const struct {
	uint64_t	 old, size;
	const char	*proof[4];
} consistencies[] = {
	{ 1, 1, { NULL } },
	{ 1, 8, { H_96A2, H_5F08, H_6B47, NULL } },
	{ 6, 8, { H_0EBC, H_CA85, H_D37E, NULL } },
	{ 2, 5, { H_5F08, H_BC1A, NULL } },
	{ 6, 7, { H_0EBC, H_B086, H_D37E, NULL } },
};

static void
unhex(const char *text, unsigned char *out, size_t *len)
{
	*len = strlen(text) / 2;
	if (hex_decode(text, strlen(text), out) == -1)
		printf("Bail out! bad hex in the test: %s\n", text);
}

static void
hash_hex(const merkle_hash h, char out[SHA256_HEX_LEN + 1])
{
	hex_encode(h, MERKLE_HASH_LEN, out);
}

/* The vectors' leaves, hashed. */
static merkle_hash	 vec[8];

static void
vector_leaves(void)
{
	unsigned char	 data[16];
	size_t		 len, i;

	for (i = 0; i < nitems(leaves_hex); i++) {
		unhex(leaves_hex[i], data, &len);
		merkle_leaf_hash(data, len, vec[i]);
	}
}

/* A proof made by pushing leaves [0, size) of list through the plan. */
static size_t
make_proof(struct merkle_proof *p, const merkle_hash *list, uint64_t size, merkle_hash *out)
{
	uint64_t	 i;

	for (i = 0; i < size; i++)
		merkle_proof_push(p, i, list[i]);
	return merkle_proof_hashes(p, out) == 0 ? p->n : (size_t)-1;
}

static bool
proof_is(const merkle_hash *got, size_t n, const char *const *want)
{
	char	 text[SHA256_HEX_LEN + 1];
	size_t	 i;

	for (i = 0; i < n; i++) {
		hash_hex(got[i], text);
		if (want[i] == NULL || strcmp(text, want[i]) != 0)
			return false;
	}
	return want[n] == NULL;
}

static void
test_vectors(void)
{
	static struct merkle_proof	 p;
	struct merkle_edge		 e;
	merkle_hash			 root, proof[MERKLE_PROOF_MAX], want, old_root;
	char				 text[SHA256_HEX_LEN + 1];
	size_t				 i, n, len;

	merkle_edge_init(&e);
	for (i = 0; i <= 8; i++) {
		if (i > 0)
			merkle_edge_push(&e, vec[i - 1]);
		merkle_edge_root(&e, root);
		hash_hex(root, text);
		is_str(text, roots_hex[i], "the root of the first %zu published leaves", i);
	}
	for (i = 0; i < nitems(inclusions); i++) {
		merkle_inclusion_plan(&p, inclusions[i].index, inclusions[i].size);
		n = make_proof(&p, vec, inclusions[i].size, proof);
		ok(n != (size_t)-1 && proof_is(proof, n, inclusions[i].proof),
		    "the published inclusion proof of leaf %llu in %llu",
		    (unsigned long long)inclusions[i].index, (unsigned long long)inclusions[i].size);
		unhex(roots_hex[inclusions[i].size], want, &len);
		ok(merkle_inclusion_verify(inclusions[i].index, inclusions[i].size,
		    vec[inclusions[i].index], proof, n, want), "... and it verifies");
	}
	for (i = 0; i < nitems(consistencies); i++) {
		merkle_consistency_plan(&p, consistencies[i].old, consistencies[i].size);
		n = make_proof(&p, vec, consistencies[i].size, proof);
		ok(n != (size_t)-1 && proof_is(proof, n, consistencies[i].proof),
		    "the published consistency proof of %llu and %llu",
		    (unsigned long long)consistencies[i].old, (unsigned long long)consistencies[i].size);
		unhex(roots_hex[consistencies[i].old], old_root, &len);
		unhex(roots_hex[consistencies[i].size], want, &len);
		ok(merkle_consistency_verify(consistencies[i].old, consistencies[i].size, proof, n,
		    old_root, want), "... and it verifies");
	}
}

/* --- every tree up to MANY leaves, against RFC 6962 read literally --------------------- */

#define MANY	70

static merkle_hash	 many[MANY];

/* MTH(D[lo:hi]) by the RFC's recursion. */
static void
mth(uint64_t lo, uint64_t hi, merkle_hash out)
{
	merkle_hash	 l, r;
	uint64_t	 k = 1;

	if (hi == lo) {
		sha256("", 0, out);
		return;
	}
	if (hi - lo == 1) {
		memcpy(out, many[lo], MERKLE_HASH_LEN);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	mth(lo, lo + k, l);
	mth(lo + k, hi, r);
	merkle_node_hash(l, r, out);
}

/* PATH(m, D[lo:hi]) appended to out at *n. */
static void
path(uint64_t m, uint64_t lo, uint64_t hi, merkle_hash *out, size_t *n)
{
	uint64_t	 k = 1;

	if (hi - lo <= 1)
		return;
	while (k * 2 < hi - lo)
		k *= 2;
	if (m < k) {
		path(m, lo, lo + k, out, n);
		mth(lo + k, hi, out[(*n)++]);
	} else {
		path(m - k, lo + k, hi, out, n);
		mth(lo, lo + k, out[(*n)++]);
	}
}

/* SUBPROOF(m, D[lo:hi], b). */
static void
subproof(uint64_t m, uint64_t lo, uint64_t hi, bool b, merkle_hash *out, size_t *n)
{
	uint64_t	 k = 1;

	if (m == hi - lo) {
		if (!b)
			mth(lo, hi, out[(*n)++]);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	if (m <= k) {
		subproof(m, lo, lo + k, b, out, n);
		mth(lo + k, hi, out[(*n)++]);
	} else {
		subproof(m - k, lo + k, hi, false, out, n);
		mth(lo, lo + k, out[(*n)++]);
	}
}

static bool
same_list(const merkle_hash *a, size_t na, const merkle_hash *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * MERKLE_HASH_LEN) == 0);
}

/* A proof with one bit flipped, a hash too many or too few: none may verify. */
static bool
damaged_inclusion_refused(uint64_t m, uint64_t size, merkle_hash *proof, size_t n,
    const merkle_hash root)
{
	size_t	 i;
	bool	 refused = true;

	for (i = 0; i < n; i++) {
		proof[i][0] ^= 8;
		refused &= !merkle_inclusion_verify(m, size, many[m], proof, n, root);
		proof[i][0] ^= 8;
	}
	if (n > 0)
		refused &= !merkle_inclusion_verify(m, size, many[m], proof, n - 1, root);
	memcpy(proof[n], root, MERKLE_HASH_LEN);
	refused &= !merkle_inclusion_verify(m, size, many[m], proof, n + 1, root);
	if (size > 1)
		refused &= !merkle_inclusion_verify(m, size, many[(m + 1) % size], proof, n, root);
	refused &= !merkle_inclusion_verify(m, size * 2, many[m], proof, n, root);
	return refused;
}

static bool
damaged_consistency_refused(uint64_t old, uint64_t size, merkle_hash *proof, size_t n,
    const merkle_hash r1, const merkle_hash r2)
{
	size_t	 i;
	bool	 refused = true;

	for (i = 0; i < n; i++) {
		proof[i][0] ^= 16;
		refused &= !merkle_consistency_verify(old, size, proof, n, r1, r2);
		proof[i][0] ^= 16;
	}
	if (n > 0)
		refused &= !merkle_consistency_verify(old, size, proof, n - 1, r1, r2);
	memcpy(proof[n], r1, MERKLE_HASH_LEN);
	refused &= !merkle_consistency_verify(old, size, proof, n + 1, r1, r2);
	refused &= !merkle_consistency_verify(old, size, proof, n, r2, r1) || memcmp(r1, r2, MERKLE_HASH_LEN) == 0;
	refused &= !merkle_consistency_verify(size, old, proof, n, r1, r2);
	return refused;
}

static void
test_every_tree(void)
{
	static struct merkle_proof	 p;
	struct merkle_edge		 e;
	merkle_hash			 root, want, got[MERKLE_PROOF_MAX + 1], ref[MERKLE_PROOF_MAX];
	merkle_hash			 old_root;
	unsigned char			 data[2];
	size_t				 n, nref;
	uint64_t			 size, m;
	bool				 roots = true, made = true, checked = true, refused = true;

	for (m = 0; m < MANY; m++) {
		data[0] = (unsigned char)m;
		data[1] = (unsigned char)(m * 7);
		merkle_leaf_hash(data, sizeof(data), many[m]);
	}
	merkle_edge_init(&e);
	for (size = 1; size <= MANY; size++) {
		merkle_edge_push(&e, many[size - 1]);
		merkle_edge_root(&e, root);
		mth(0, size, want);
		roots &= memcmp(root, want, MERKLE_HASH_LEN) == 0 && merkle_edge_fits(size, e.n);
		for (m = 0; m < size; m++) {
			merkle_inclusion_plan(&p, m, size);
			n = make_proof(&p, many, size, got);
			nref = 0;
			path(m, 0, size, ref, &nref);
			made &= same_list(got, n, ref, nref);
			checked &= merkle_inclusion_verify(m, size, many[m], got, n, root);
			refused &= damaged_inclusion_refused(m, size, got, n, root);
		}
		for (m = 1; m <= size; m++) {
			merkle_consistency_plan(&p, m, size);
			n = make_proof(&p, many, size, got);
			nref = 0;
			if (m < size)
				subproof(m, 0, size, true, ref, &nref);
			made &= same_list(got, n, ref, nref);
			mth(0, m, old_root);
			checked &= merkle_consistency_verify(m, size, got, n, old_root, root);
			if (m < size)
				refused &= damaged_consistency_refused(m, size, got, n, old_root, root);
		}
	}
	ok(roots, "every root of trees of 1..%d leaves is RFC 6962's MTH", MANY);
	ok(made, "every inclusion and consistency proof of them is RFC 6962's PATH and PROOF");
	ok(checked, "every one of those proofs verifies");
	ok(refused, "a bit flipped, a hash dropped or added, another leaf, size or root: refused");
}

/* --- edges and limits -------------------------------------------------------------------- */

static void
test_limits(void)
{
	static struct merkle_proof	 p;
	merkle_hash			 empty;
	struct merkle_edge		 e;

	sha256("", 0, empty);
	ok(merkle_inclusion_plan(&p, 3, 3) == -1, "no inclusion proof of a leaf past the tree");
	ok(merkle_consistency_plan(&p, 4, 3) == -1, "no consistency proof with a larger old tree");
	ok(merkle_consistency_plan(&p, 0, 3) == 0 && p.n == 0, "the empty tree: an empty proof");
	ok(merkle_consistency_verify(0, 3, NULL, 0, empty, vec[0]), "which verifies");
	ok(!merkle_consistency_verify(0, 3, &empty, 1, empty, vec[0]),
	    "but not with a hash in it");
	ok(!merkle_consistency_verify(2, 2, NULL, 0, vec[0], vec[1]),
	    "one size, two roots: not consistent");
	ok(!merkle_inclusion_verify(0, 0, vec[0], NULL, 0, vec[0]), "nothing is in the empty tree");
	ok(!merkle_consistency_verify(3, 5, NULL, 0, vec[0], vec[1]),
	    "an empty proof between sizes 3 and 5 is refused");
	merkle_edge_init(&e);
	e.size = UINT64_MAX;
	ok(merkle_edge_push(&e, vec[0]) == -1, "a full tree takes no more leaves");
	ok(merkle_inclusion_plan(&p, UINT64_MAX - 2, UINT64_MAX) == 0 && p.n == 64,
	    "a leaf of a tree of 2^64-1 leaves has a proof of 64 hashes");
	ok(merkle_consistency_plan(&p, UINT64_MAX - 2, UINT64_MAX) == 0 &&
	    p.n <= MERKLE_PROOF_MAX, "a consistency proof there fits too (%zu hashes)", p.n);
}

int
main(void)
{
	vector_leaves();
	test_vectors();
	test_every_tree();
	test_limits();
	return done_testing();
}
