/* SPDX-License-Identifier: ISC */
/*
 * tlog.h: the texts of a transparency log that idwise-log writes and reads: a checkpoint
 * (c2sp.org/tlog-checkpoint: origin, tree size, base64 root, as a signed note), an
 * inclusion proof (c2sp.org/tlog-proof@v1, the record's line in its extra line), a
 * consistency proof (idwise-log's own, in the same shape), and their small files, read
 * whole and written durably. idwise-proofs(5) is the reference for each byte.
 */
#ifndef IDW_TLOG_H
#define IDW_TLOG_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "merkle.h"
#include "note.h"

#define TLOG_INCLUSION_HEADER	"c2sp.org/tlog-proof@v1"
#define TLOG_CONSISTENCY_HEADER	"idwise-log/consistency-proof@v1"
#define TLOG_FILE_MAX		((size_t)1024 * 1024)	/* the longest proof or key file read */

/*
 * In the getopt_long() table of each command that signs or checks checkpoints: --key
 * KEYFILE ('k': the signer key, or the verifier key KEYFILE.pub) and --origin NAME ('o':
 * the checkpoints' origin, the key's name when not given).
 */
#define TLOG_KEY_LONG_OPTIONS						\
	{ "key",	required_argument,	NULL, 'k' },		\
	{ "origin",	required_argument,	NULL, 'o' }

struct checkpoint {
	char		 origin[NOTE_NAME_MAX + 1];
	uint64_t	 size;
	merkle_hash	 root;
};

/* The note text "ORIGIN\nSIZE\nBASE64(ROOT)\n" into out: its length, or -1 if too long. */
int	checkpoint_text(const struct checkpoint *, char *out, size_t);
/*
 * A checkpoint's note: opened with key (NULL: its signature is not checked, for a note
 * idwise-log signed itself), then its text read: origin, size, root, no other line.
 * 0, or -1 with why.
 */
int	checkpoint_open(const struct note_key *, const char *note, size_t len,
	    struct checkpoint *, char *why, size_t);

enum proof_kind {
	PROOF_INCLUSION,
	PROOF_CONSISTENCY
};

/* A proof as text holds it; note (the newer checkpoint, verbatim) points into that text. */
struct tlog_proof {
	enum proof_kind	 kind;
	uint64_t	 at;		/* inclusion: the leaf index; consistency: the old size */
	size_t		 n;
	merkle_hash	 hash[MERKLE_PROOF_MAX];
	char		*extra;		/* inclusion: the record's line with its '\n'; or NULL */
	size_t		 extra_len;
	const char	*note;
	size_t		 note_len;
};

/* Print the proof; 0, or -1 (a write failed). */
int	tlog_proof_print(FILE *, const struct tlog_proof *);
/*
 * Read a proof from its text (which must stay while the proof is used); the extra line is
 * decoded into memory tlog_proof_free releases. 0, or -1 with why.
 */
int	tlog_proof_parse(const char *text, size_t len, struct tlog_proof *, char *why, size_t);
void	tlog_proof_free(struct tlog_proof *);

/*
 * The whole file at path, at most max bytes, into *buf (to free, NUL after it). 0, or -1
 * once "path: reason" is said.
 */
int	tlog_read_file(const char *path, size_t max, char **buf, size_t *len);
/*
 * Replace the file at path with data, durably: a temporary file next to it (path.tmp,
 * mode), fsync, rename, fsync of the directory. 0, or -1 once the reason is said.
 */
int	tlog_write_file(const char *path, const void *data, size_t len, mode_t mode);

#endif
