/* SPDX-License-Identifier: ISC */
/*
 * merkle.h: the Merkle tree of RFC 6962 (section 2.1, as RFC 9162 keeps it) over a list
 * of leaves: a leaf's hash is SHA-256(0x00 || its bytes), an inner node's SHA-256(0x01 ||
 * left || right), the empty tree's SHA-256 of nothing; a tree of n > 1 leaves splits at
 * the largest power of two below n. Leaves come in order, one at a time, so no list of
 * them is kept: the tree's right edge (its complete subtrees, at most 64) is enough for
 * its root at each size, and a proof is the roots of a few ranges of leaves, each built
 * the same way while the leaves go by. Verifying a proof needs only the hashes.
 */
#ifndef IDW_MERKLE_H
#define IDW_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN		32
#define MERKLE_EDGE_MAX		64	/* complete subtrees of a tree of up to 2^64 - 1 leaves */
#define MERKLE_PROOF_MAX	66	/* hashes in a proof: 64 for inclusion, 65 for consistency */

typedef unsigned char	merkle_hash[MERKLE_HASH_LEN];

/* SHA-256(0x00 || data): for a log line, data is the line with its newline. */
void	merkle_leaf_hash(const void *data, size_t len, merkle_hash out);
/* SHA-256(0x01 || left || right). */
void	merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out);

/* --- a tree as its leaves come --------------------------------------------------------- */

/*
 * The roots of the complete subtrees a tree of size leaves is made of, largest (leftmost)
 * first: one for each bit set in size. It is all that is needed to add the next leaf.
 */
struct merkle_edge {
	uint64_t	 size;
	unsigned	 n;
	merkle_hash	 hash[MERKLE_EDGE_MAX];
};

void	merkle_edge_init(struct merkle_edge *);
/* Add the next leaf's hash; -1 (nothing changed) when the tree is full. */
int	merkle_edge_push(struct merkle_edge *, const merkle_hash leaf);
/* The tree's root (its Merkle Tree Hash): the subtrees joined from the right. */
void	merkle_edge_root(const struct merkle_edge *, merkle_hash out);
/* Is n a count of subtrees a tree of size leaves has (one per bit set)? */
bool	merkle_edge_fits(uint64_t size, unsigned n);

/* --- proofs ------------------------------------------------------------------------------ */

/* A range of leaves [lo, hi) whose root a proof carries, and its tree as the leaves come. */
struct merkle_range {
	uint64_t		 lo, hi;
	struct merkle_edge	 tree;
};

/* A proof being made: its ranges in the proof's order (the leaf's end first). */
struct merkle_proof {
	size_t			 n;
	struct merkle_range	 range[MERKLE_PROOF_MAX];
};

/*
 * Plan the inclusion proof of leaf index (from 0) in the tree of size leaves (RFC 6962
 * PATH), or the consistency proof of the tree of old leaves with the one of size leaves
 * (PROOF; empty when old is 0 or size). -1 when index >= size, or old > size.
 */
int	merkle_inclusion_plan(struct merkle_proof *, uint64_t index, uint64_t size);
int	merkle_consistency_plan(struct merkle_proof *, uint64_t old, uint64_t size);
/* Leaf index (they come in order) goes into the range that holds it. */
void	merkle_proof_push(struct merkle_proof *, uint64_t index, const merkle_hash leaf);
/* The proof's hashes, once every leaf of its ranges came: p->n of them; -1 if some did not. */
int	merkle_proof_hashes(const struct merkle_proof *, merkle_hash *out);

/*
 * Check a proof with nothing but hashes (RFC 9162 sections 2.1.3.2 and 2.1.4.2): that
 * leaf is at index in the tree of size leaves whose root is root; that the tree of old
 * leaves with root old_root is the start of the one of size leaves with root new_root.
 * true or false.
 */
bool	merkle_inclusion_verify(uint64_t index, uint64_t size, const merkle_hash leaf,
	    const merkle_hash *proof, size_t n, const merkle_hash root);
bool	merkle_consistency_verify(uint64_t old, uint64_t size, const merkle_hash *proof,
	    size_t n, const merkle_hash old_root, const merkle_hash new_root);

#endif
