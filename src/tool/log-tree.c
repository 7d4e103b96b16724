/* SPDX-License-Identifier: ISC */
/* log-tree.c: one pass over the log's lines into its Merkle tree, roots, proof and a record. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwise-log.h"
#include "log-check.h"
#include "log-scan.h"
#include "log-tree.h"
#include "progress.h"
#include "util.h"

#define WHY_LEN		256

struct pass {
	const struct tree_want	*want;
	struct tree_got		*got;
	uint64_t		 skip;		/* lines up to this seq are in the tree given */
	uint64_t		 last_seq;
	char			 why[WHY_LEN];
	struct progress		*progress;	/* NULL: not on a terminal */
	uint64_t		 records, bytes, total;
};

/* Roots asked for at the size the tree has now. */
static void
take_roots(struct pass *p)
{
	size_t	 i;

	for (i = 0; i < p->want->nsizes; i++)
		if (!p->got->have_root[i] && p->want->sizes[i] == p->got->edge.size) {
			merkle_edge_root(&p->got->edge, p->got->roots[i]);
			p->got->have_root[i] = true;
		}
}

/* The first line: where the tree starts, from seq 1 or from the tree given. */
static int
first_line(struct pass *p, uint64_t seq)
{
	const struct tree_start	*start = p->want->start;

	p->got->first_seq = seq;
	if (seq == 1)
		return 0;
	if (start == NULL || start->edge.size == 0) {
		snprintf(p->why, sizeof(p->why), "the files start at seq %" PRIu64 ", not 1: "
		    "give the older files too (decompressed: <(zcat FILE.gz))", seq);
		return -1;
	}
	if (seq > start->edge.size) {
		snprintf(p->why, sizeof(p->why), "the files start at seq %" PRIu64 ", after "
		    "record %" PRIu64 " the last checkpoint ends with: give the files that hold "
		    "it", seq, start->edge.size);
		return -1;
	}
	p->got->edge = start->edge;
	p->skip = start->edge.size;
	take_roots(p);
	return 0;
}

/* The last line of the tree given, the only one of it looked at: it must be the same. */
static int
skipped_line(struct pass *p, const merkle_hash leaf)
{
	if (memcmp(leaf, p->want->start->last_leaf, MERKLE_HASH_LEN) != 0) {
		snprintf(p->why, sizeof(p->why), "record %" PRIu64 " is not the one the last "
		    "checkpoint ends with: the log was changed", p->skip);
		return -1;
	}
	return 0;
}

static int
keep_record(struct tree_got *got, const struct scan_line *line)
{
	if ((got->record = malloc(line->len + 1)) == NULL)
		return -1;
	memcpy(got->record, line->text, line->len + 1);
	got->record_len = line->len + 1;
	return 0;
}

static int
tree_line(const struct scan_line *line, void *arg)
{
	struct pass	*p = arg;
	merkle_hash	 leaf;
	uint64_t	 seq;

	p->bytes += line->len + 1;
	progress_update(p->progress, ++p->records, p->bytes, p->total);
	if (log_line_seq(line->text, line->len, &seq) == -1) {
		snprintf(p->why, sizeof(p->why), "not a record (a line starts {\"v\":1,\"seq\":N,)");
		return 1;
	}
	if (p->got->first_seq == 0) {
		if (first_line(p, seq) == -1)
			return 1;
	} else if (seq != p->last_seq + 1) {
		snprintf(p->why, sizeof(p->why), "seq %" PRIu64 " where %" PRIu64 " comes next "
		    "(idwise-log verify says more)", seq, p->last_seq + 1);
		return 1;
	}
	p->last_seq = seq;
	if (p->skip != 0 && seq < p->skip)
		return 0;
	merkle_leaf_hash(line->text, line->len + 1, leaf);
	if (p->skip != 0 && seq == p->skip)
		return skipped_line(p, leaf) == -1 ? 1 : 0;
	if (merkle_edge_push(&p->got->edge, leaf) == -1)
		return 1;
	memcpy(p->got->last_leaf, leaf, MERKLE_HASH_LEN);
	if (p->want->proof != NULL)
		merkle_proof_push(p->want->proof, seq - 1, leaf);
	if (seq == p->want->record && keep_record(p->got, line) == -1) {
		snprintf(p->why, sizeof(p->why), "out of memory");
		return 1;
	}
	take_roots(p);
	return 0;
}

int
tree_read(char *const files[], int nfiles, const struct tree_want *want, struct tree_got *got)
{
	struct pass	 p;
	struct scan_at	 at;
	enum scan_end	 end;

	memset(got, 0, sizeof(*got));
	memset(&p, 0, sizeof(p));
	p.want = want;
	p.got = got;
	merkle_edge_init(&got->edge);
	take_roots(&p);
	if (want->what != NULL) {
		p.total = progress_files_size(files, nfiles);
		p.progress = progress_start(want->what);
	}
	end = log_scan(files, nfiles, tree_line, &p, &at);
	progress_end(p.progress);
	switch (end) {
	case SCAN_DONE:
		return EX_OK;
	case SCAN_TORN:
		/* A record being written, or a tail the writer will cut: not in the tree yet. */
		if (at.file == files[nfiles - 1]) {
			got->torn = true;
			return EX_OK;
		}
		snprintf(p.why, sizeof(p.why), "incomplete last line (torn) in a file before "
		    "the last");
		break;
	case SCAN_STOPPED:
		break;
	case SCAN_TOO_LONG:
		snprintf(p.why, sizeof(p.why), "line longer than %zu bytes", LOG_LINE_MAX);
		break;
	case SCAN_UNREADABLE:
		return EXIT_UNREADABLE;
	}
	msg("%s:%" PRIu64 ": %s", at.file, at.lineno, p.why);
	return EXIT_DAMAGED;
}

void
tree_got_free(struct tree_got *got)
{
	free(got->record);
	got->record = NULL;
}
