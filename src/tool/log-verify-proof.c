/* SPDX-License-Identifier: ISC */
/*
 * log-verify-proof.c: `idwise-log verify-proof`: an inclusion or a consistency proof
 * checked with the verifier key alone, without the log: the checkpoints' signatures and
 * origin, the record's line (its seq is its place in the tree), and the proof's hashes.
 */
#include "autoconf.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idwise-log.h"
#include "log-check.h"
#include "logformat.h"
#include "tlog.h"
#include "util.h"

#define WHY_LEN		256
#define ID_SHOWN	80	/* bytes of an id shown */

struct vp_args {
	const char	*key;
	const char	*origin;	/* NULL: the key's name */
	const char	*old;
	const char	*record;
	const char	*proof;
};

/* A file's text: the verifier key, a checkpoint, a record, or the proof. */
struct text {
	char	*buf;
	size_t	 len;
};

static int
read_verifier(const char *path, struct note_key *k)
{
	struct text	 t;
	char		 why[WHY_LEN];
	int		 rc;

	if (tlog_read_file(path, NOTE_KEY_TEXT_MAX + 1, &t.buf, &t.len) == -1)
		return EXIT_UNREADABLE;
	rc = note_key_parse(t.buf, t.len, false, k, why, sizeof(why));
	free(t.buf);
	if (rc == -1) {
		msg("%s: %s", path, why);
		return EXIT_UNREADABLE;
	}
	return EX_OK;
}

/* A checkpoint the key signed, of the origin expected. */
static int
open_checkpoint(const char *path, const char *note, size_t len, const struct note_key *k,
    const char *origin, struct checkpoint *c)
{
	char	 why[WHY_LEN];

	if (checkpoint_open(k, note, len, c, why, sizeof(why)) == -1) {
		printf("%s: %s\n", path, why);
		return EXIT_DAMAGED;
	}
	if (strcmp(c->origin, origin) != 0) {
		printf("%s: a checkpoint of %s, not of %s\n", path, c->origin, origin);
		return EXIT_DAMAGED;
	}
	return EX_OK;
}

/* --- inclusion --------------------------------------------------------------------------- */

/* The record's line with its '\n': from --record, or the proof's extra line; both agree. */
static int
take_record(const struct vp_args *a, const struct tlog_proof *p, struct text *t)
{
	if (a->record == NULL && p->extra == NULL) {
		msg("%s: the proof holds no record: give its line with --record FILE", a->proof);
		return EX_USAGE;
	}
	if (a->record == NULL) {
		t->buf = NULL;
		t->len = p->extra_len;
		return EX_OK;
	}
	if (tlog_read_file(a->record, LOG_LINE_MAX, &t->buf, &t->len) == -1)
		return EXIT_UNREADABLE;
	if (t->len == 0 || memchr(t->buf, '\n', t->len) != t->buf + t->len - 1) {
		printf("%s: not one line ended by a newline\n", a->record);
		return EXIT_DAMAGED;
	}
	if (p->extra != NULL && (p->extra_len != t->len || memcmp(p->extra, t->buf, t->len) != 0)) {
		printf("%s: not the record the proof carries\n", a->record);
		return EXIT_DAMAGED;
	}
	return EX_OK;
}

/* The record at leaf index: its seq must be index + 1. Prints what it is. */
static int
check_record(const struct vp_args *a, const char *line, size_t len, uint64_t index,
    char *about, size_t size)
{
	struct log_reader	*reader;
	struct log_record	 rec;
	struct timespec		 ts;
	char			 why[WHY_LEN], when[RFC3339_MS_LEN + 1];
	char			 id[SHOWN_ESCAPED_LEN(ID_SHOWN)];
	int			 rc = EXIT_DAMAGED;

	if ((reader = log_reader_new()) == NULL) {
		msg("out of memory");
		return EXIT_UNREADABLE;
	}
	if (log_record_read(reader, line, len - 1, &rec, why, sizeof(why)) == -1)
		printf("%s: the record: %s\n", a->proof, why);
	else if (rec.view.seq != index + 1) {
		printf("%s: the record has seq %" PRIu64 "; the proof is for seq %" PRIu64 "\n",
		    a->proof, rec.view.seq, index + 1);
		log_record_free(&rec);
	} else {
		ts.tv_sec = rec.view.received_ms / 1000;
		ts.tv_nsec = rec.view.received_ms % 1000 * 1000000;
		format_rfc3339_ms(&ts, when);
		snprintf(about, size, "record %" PRIu64 " (%s, %s, received %s, id \"%s\")",
		    rec.view.seq, rec.view.type, rec.view.outcome, when,
		    escape_shown(rec.view.id, ID_SHOWN, id));
		log_record_free(&rec);
		rc = EX_OK;
	}
	log_reader_free(reader);
	return rc;
}

static int
verify_inclusion(const struct vp_args *a, const struct tlog_proof *p,
    const struct checkpoint *c, const struct note_key *k)
{
	struct text	 t;
	merkle_hash	 leaf;
	const char	*line;
	char		 about[WHY_LEN + SHOWN_ESCAPED_LEN(ID_SHOWN)];
	int		 rc;

	if ((rc = take_record(a, p, &t)) != EX_OK)
		return rc;
	line = t.buf != NULL ? t.buf : p->extra;
	if ((rc = check_record(a, line, t.len, p->at, about, sizeof(about))) == EX_OK) {
		merkle_leaf_hash(line, t.len, leaf);
		if (merkle_inclusion_verify(p->at, c->size, leaf, p->hash, p->n, c->root))
			printf("%s: %s is in the tree of %" PRIu64 " records of %s signed by "
			    "%s+%08" PRIx32 "\n", a->proof, about, c->size, c->origin, k->name,
			    k->id);
		else {
			printf("%s: does not hold: %s is not in the tree of %" PRIu64 " records the "
			    "checkpoint signs\n", a->proof, about, c->size);
			rc = EXIT_DAMAGED;
		}
	}
	free(t.buf);
	return rc;
}

/* --- consistency ------------------------------------------------------------------------- */

static int
verify_consistency(const struct vp_args *a, const struct tlog_proof *p,
    const struct checkpoint *c, const struct note_key *k, const char *origin)
{
	struct checkpoint	 old;
	struct text		 t;
	int			 rc;

	if (a->old == NULL) {
		msg("%s: a consistency proof: give the older checkpoint with --old FILE", a->proof);
		return EX_USAGE;
	}
	if (tlog_read_file(a->old, NOTE_MAX, &t.buf, &t.len) == -1)
		return EXIT_UNREADABLE;
	rc = open_checkpoint(a->old, t.buf, t.len, k, origin, &old);
	free(t.buf);
	if (rc != EX_OK)
		return rc;
	if (c->size < old.size) {
		printf("%s: does not hold: its tree of %" PRIu64 " records is smaller than the %"
		    PRIu64 " of %s: records were cut off\n", a->proof, c->size, old.size, a->old);
		return EXIT_DAMAGED;
	}
	if (p->at != old.size) {
		printf("%s: a proof from a tree of %" PRIu64 " records, and %s has %" PRIu64 "\n",
		    a->proof, p->at, a->old, old.size);
		return EXIT_DAMAGED;
	}
	if (!merkle_consistency_verify(old.size, c->size, p->hash, p->n, old.root, c->root)) {
		printf("%s: does not hold: the tree of %" PRIu64 " records of %s is not the start "
		    "of the tree of %" PRIu64 " records: the log was changed\n", a->proof,
		    old.size, a->old, c->size);
		return EXIT_DAMAGED;
	}
	printf("%s: the tree of %" PRIu64 " records of %s is the start of its tree of %" PRIu64
	    " records, both signed by %s+%08" PRIx32 "\n", a->proof, old.size, a->old, c->size,
	    k->name, k->id);
	return EX_OK;
}

/* --- the command ------------------------------------------------------------------------- */

static int
verify_proof(const struct vp_args *a, const struct note_key *k)
{
	const char		*origin = a->origin != NULL ? a->origin : k->name;
	struct tlog_proof	 p;
	struct checkpoint	 c;
	struct text		 t;
	char			 why[WHY_LEN];
	int			 rc;

	if (tlog_read_file(a->proof, TLOG_FILE_MAX + LOG_LINE_MAX / 3 * 4, &t.buf, &t.len) == -1)
		return EXIT_UNREADABLE;
	if (tlog_proof_parse(t.buf, t.len, &p, why, sizeof(why)) == -1) {
		printf("%s: %s\n", a->proof, why);
		free(t.buf);
		return EXIT_DAMAGED;
	}
	if ((rc = open_checkpoint(a->proof, p.note, p.note_len, k, origin, &c)) == EX_OK) {
		if (p.kind == PROOF_CONSISTENCY)
			rc = verify_consistency(a, &p, &c, k, origin);
		else if (a->old != NULL) {
			msg("--old goes with a consistency proof; %s is an inclusion proof", a->proof);
			rc = EX_USAGE;
		} else
			rc = verify_inclusion(a, &p, &c, k);
	}
	tlog_proof_free(&p);
	free(t.buf);
	return rc;
}

static const struct option verify_proof_options[] = {
	TLOG_KEY_LONG_OPTIONS,
	{ "old",	required_argument,	NULL, 'O' },
	{ "record",	required_argument,	NULL, 'r' },
	{ NULL,		0,			NULL, 0 }
};

int
cmd_verify_proof(int argc, char **argv)
{
	struct vp_args	 a;
	struct note_key	 k;
	int		 ch, rc;

	memset(&a, 0, sizeof(a));
	while ((ch = getopt_long(argc, argv, "", verify_proof_options, NULL)) != -1) {
		switch (ch) {
		case 'k': a.key = optarg; break;
		case 'o': a.origin = optarg; break;
		case 'O': a.old = optarg; break;
		case 'r': a.record = optarg; break;
		default: return cmd_usage(argv[0]);
		}
	}
	if (a.key == NULL || optind != argc - 1)
		return cmd_usage(argv[0]);
	a.proof = argv[optind];
	if ((rc = read_verifier(a.key, &k)) != EX_OK)
		return rc;
	rc = verify_proof(&a, &k);
	if (rc == EX_USAGE)
		(void)cmd_usage(argv[0]);
	note_key_free(&k);
	return rc;
}
