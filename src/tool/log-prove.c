/* SPDX-License-Identifier: ISC */
/*
 * log-prove.c: `idwise-log prove`: from the log's files, the inclusion proof of a record
 * in a checkpoint's tree (c2sp.org/tlog-proof, the record's line in it), or the
 * consistency proof of two checkpoints; each only when the files do hold the trees the
 * checkpoints name, which prove checks first.
 */
#include "autoconf.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwise-log.h"
#include "log-tree.h"
#include "tlog.h"
#include "util.h"

#define WHY_LEN		256

struct held {
	const char		*path;
	char			*note;
	size_t			 len;
	struct checkpoint	 c;
};

/* A checkpoint file (the log's own: its signature is verify-proof's to check). */
static int
read_checkpoint(const char *path, struct held *h)
{
	char	 why[WHY_LEN];

	h->path = path;
	if (tlog_read_file(path, NOTE_MAX, &h->note, &h->len) == -1)
		return EXIT_UNREADABLE;
	if (checkpoint_open(NULL, h->note, h->len, &h->c, why, sizeof(why)) == -1) {
		msg("%s: %s", path, why);
		return EXIT_DAMAGED;
	}
	return EX_OK;
}

/* Do the files hold the tree the checkpoint names? */
static int
tree_matches(const struct held *h, const struct tree_got *got, size_t i)
{
	if (got->edge.size < h->c.size) {
		msg("%s: a tree of %" PRIu64 " records, and the files hold %" PRIu64 ": records "
		    "were cut off, or give the newer files too", h->path, h->c.size,
		    got->edge.size);
		return EXIT_DAMAGED;
	}
	if (memcmp(got->roots[i], h->c.root, MERKLE_HASH_LEN) != 0) {
		msg("%s: the first %" PRIu64 " records of the files do not hash to its root: the "
		    "log is not the one it signed (idwise-log verify)", h->path, h->c.size);
		return EXIT_DAMAGED;
	}
	return EX_OK;
}

/* Read the files into the tree the plan wants; EX_OK once every checkpoint matched. */
static int
prove_from(char *const files[], int nfiles, struct tree_want *want, struct held *held,
    size_t nheld, struct tree_got *got)
{
	size_t	 i;
	int	 rc;

	want->nsizes = nheld;
	for (i = 0; i < nheld; i++)
		want->sizes[i] = held[i].c.size;
	if ((rc = tree_read(files, nfiles, want, got)) != EX_OK)
		return rc;
	for (i = 0; i < nheld && rc == EX_OK; i++)
		rc = tree_matches(&held[i], got, i);
	return rc;
}

static int
print_proof(struct tlog_proof *out, const struct merkle_proof *plan, const struct held *h)
{
	if (merkle_proof_hashes(plan, out->hash) == -1) {
		msg("%s: the files do not hold every record of its tree", h->path);
		return EXIT_DAMAGED;
	}
	out->n = plan->n;
	out->note = h->note;
	out->note_len = h->len;
	return tlog_proof_print(stdout, out) == 0 ? EX_OK : EX_IOERR;
}

static int
prove_inclusion(const char *cp, const char *seq_text, char *const files[], int nfiles)
{
	static struct merkle_proof	 plan;
	struct tree_want		 want;
	struct tree_got			 got;
	struct tlog_proof		 out;
	struct held			 h = { 0 };
	long long			 seq;
	int				 rc;

	memset(&got, 0, sizeof(got));
	if (parse_number(seq_text, 10, 1, INT64_MAX, &seq) == -1) {
		msg("SEQ: not a record's seq (a number from 1): %s", seq_text);
		return EX_USAGE;
	}
	if ((rc = read_checkpoint(cp, &h)) == EX_OK &&
	    merkle_inclusion_plan(&plan, (uint64_t)seq - 1, h.c.size) == -1) {
		msg("%s: a tree of %" PRIu64 " records: record %lld is not in it", cp, h.c.size,
		    seq);
		rc = EXIT_DAMAGED;
	}
	memset(&want, 0, sizeof(want));
	want.what = "prove";
	want.proof = &plan;
	want.record = (uint64_t)seq;
	if (rc == EX_OK && (rc = prove_from(files, nfiles, &want, &h, 1, &got)) == EX_OK) {
		memset(&out, 0, sizeof(out));
		out.kind = PROOF_INCLUSION;
		out.at = (uint64_t)seq - 1;
		out.extra = got.record;
		out.extra_len = got.record_len;
		rc = print_proof(&out, &plan, &h);
	}
	tree_got_free(&got);
	free(h.note);
	return rc;
}

static int
prove_consistency(const char *old, const char *new, char *const files[], int nfiles)
{
	static struct merkle_proof	 plan;
	struct tree_want		 want;
	struct tree_got			 got;
	struct tlog_proof		 out;
	struct held			 h[2] = { { 0 }, { 0 } };
	int				 rc;

	memset(&got, 0, sizeof(got));
	if ((rc = read_checkpoint(old, &h[0])) == EX_OK &&
	    (rc = read_checkpoint(new, &h[1])) == EX_OK) {
		if (strcmp(h[0].c.origin, h[1].c.origin) != 0) {
			msg("%s, %s: checkpoints of two logs (%s and %s)", old, new, h[0].c.origin,
			    h[1].c.origin);
			rc = EXIT_DAMAGED;
		} else if (merkle_consistency_plan(&plan, h[0].c.size, h[1].c.size) == -1) {
			msg("%s: a tree of %" PRIu64 " records, larger than the %" PRIu64 " of %s: "
			    "give the older one first", old, h[0].c.size, h[1].c.size, new);
			rc = EXIT_DAMAGED;
		}
	}
	memset(&want, 0, sizeof(want));
	want.what = "prove";
	want.proof = &plan;
	if (rc == EX_OK && (rc = prove_from(files, nfiles, &want, h, 2, &got)) == EX_OK) {
		memset(&out, 0, sizeof(out));
		out.kind = PROOF_CONSISTENCY;
		out.at = h[0].c.size;
		rc = print_proof(&out, &plan, &h[1]);
	}
	tree_got_free(&got);
	free(h[0].note);
	free(h[1].note);
	return rc;
}

static const struct option prove_options[] = {
	{ "checkpoint",		required_argument,	NULL, 'c' },
	{ "consistency",	required_argument,	NULL, 'C' },
	{ NULL,			0,			NULL, 0 }
};

int
cmd_prove(int argc, char **argv)
{
	const char	*cp = NULL, *old = NULL;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "+", prove_options, NULL)) != -1) {
		if (ch == 'c')
			cp = optarg;
		else if (ch == 'C')
			old = optarg;
		else
			return cmd_usage(argv[0]);
	}
	if ((cp == NULL) == (old == NULL) || argc - optind < 2)
		return cmd_usage(argv[0]);
	if (cp != NULL)
		return prove_inclusion(cp, argv[optind], argv + optind + 1, argc - optind - 1);
	return prove_consistency(old, argv[optind], argv + optind + 1, argc - optind - 1);
}
