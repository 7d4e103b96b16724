/* SPDX-License-Identifier: ISC */
/*
 * log-verify.c: `idwise-log verify`: every line complete and a record, seq without gap or
 * repeat, and each prev the hash of the line before it, across rotated files; with
 * --head, that the files still reach a record whose hash was kept elsewhere.
 */
#include "autoconf.h"

#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwise-log.h"
#include "log-check.h"
#include "log-scan.h"
#include "progress.h"
#include "util.h"

#define WHY_LEN		256
#define ZERO_PREV	"0000000000000000000000000000000000000000000000000000000000000000"

/* A record proven elsewhere: SEQ:HASH as `idwise-log head` prints it. */
struct head_mark {
	bool		 set;
	uint64_t	 seq;
	char		 hash[SHA256_HEX_LEN + 1];
	char		 found[SHA256_HEX_LEN + 1];	/* the hash of the line with that seq */
	bool		 seen;
};

struct verify {
	struct log_reader *reader;
	uint64_t	 records;
	uint64_t	 first_seq;
	const char	*first_file;
	uint64_t	 last_seq;
	char		 last_hash[SHA256_HEX_LEN + 1];
	const char	*last_file;
	uint64_t	 last_lineno;
	struct head_mark head;
	char		 why[WHY_LEN];		/* the first damage found */
	struct progress	*progress;		/* NULL: not on a terminal */
	uint64_t	 bytes;			/* read so far */
	uint64_t	 total;			/* of every file; 0: not known */
};

/* "SEQ:HASH" with SEQ from 1 and HASH 64 hex digits (either case, kept in lower case). */
static int
head_mark_parse(const char *text, struct head_mark *mark)
{
	const char	*colon;
	char		 seq[24];
	long long	 n;
	size_t		 i;

	memset(mark, 0, sizeof(*mark));
	if ((colon = strchr(text, ':')) == NULL || text[0] < '1' || text[0] > '9' ||
	    (size_t)(colon - text) >= sizeof(seq) || strlen(colon + 1) != SHA256_HEX_LEN)
		return -1;
	memcpy(seq, text, (size_t)(colon - text));
	seq[colon - text] = '\0';
	if (parse_number(seq, 10, 1, INT64_MAX, &n) == -1)
		return -1;
	mark->seq = (uint64_t)n;
	for (i = 0; i < SHA256_HEX_LEN; i++) {
		if (!isxdigit((unsigned char)colon[1 + i]))
			return -1;
		mark->hash[i] = (char)tolower((unsigned char)colon[1 + i]);
	}
	mark->set = true;
	return 0;
}

/* --- checking each record ------------------------------------------------------------ */

/* The first record: seq 1 must start from 64 zeros; a later seq cannot be checked. */
static const char *
check_first(const struct log_record *rec)
{
	if (rec->view.seq == 1 && strcmp(rec->view.prev, ZERO_PREV) != 0)
		return "seq 1 but prev is not 64 zeros";
	return NULL;
}

/* Why seq does not follow the last one. */
static void
seq_reason(struct verify *v, const struct log_record *rec, const struct scan_line *line)
{
	uint64_t	 seq = rec->view.seq, last = v->last_seq;
	bool		 new_file = line->lineno == 1;

	if (seq > last + 1)
		snprintf(v->why, sizeof(v->why), "seq %" PRIu64 " after %" PRIu64 ": %" PRIu64
		    " record%s missing", seq, last, seq - last - 1, seq - last - 1 == 1 ? "" : "s");
	else if (seq == last)
		snprintf(v->why, sizeof(v->why), "seq %" PRIu64 " after %" PRIu64 ": repeated",
		    seq, last);
	else
		snprintf(v->why, sizeof(v->why), "seq %" PRIu64 " after %" PRIu64 ": goes back%s",
		    seq, last, new_file ? " (give the files oldest first)" : "");
}

/* Why prev is not the last line's hash: names that line. */
static void
prev_reason(struct verify *v, const struct scan_line *line)
{
	if (v->last_file == line->file)
		snprintf(v->why, sizeof(v->why), "prev is not the hash of line %" PRIu64,
		    v->last_lineno);
	else
		snprintf(v->why, sizeof(v->why), "prev is not the hash of %s:%" PRIu64,
		    v->last_file, v->last_lineno);
}

/* Does the record continue the chain? Sets v->why when not. */
static bool
chain_holds(struct verify *v, const struct log_record *rec, const struct scan_line *line)
{
	const char	*why;

	if (v->records == 0) {
		if ((why = check_first(rec)) == NULL)
			return true;
		snprintf(v->why, sizeof(v->why), "%s", why);
		return false;
	}
	if (rec->view.seq != v->last_seq + 1) {
		seq_reason(v, rec, line);
		return false;
	}
	if (strcmp(rec->view.prev, v->last_hash) != 0) {
		prev_reason(v, line);
		return false;
	}
	return true;
}

static bool
head_holds(struct verify *v, uint64_t seq, const char *hash)
{
	struct head_mark	*mark = &v->head;

	if (!mark->set || seq != mark->seq)
		return true;
	mark->seen = true;
	memcpy(mark->found, hash, sizeof(mark->found));
	if (strcmp(hash, mark->hash) == 0)
		return true;
	snprintf(v->why, sizeof(v->why), "head %" PRIu64 ":%s not reached: record %" PRIu64
	    " has hash %s", mark->seq, mark->hash, seq, hash);
	return false;
}

static int
verify_line(const struct scan_line *line, void *arg)
{
	struct verify		*v = arg;
	struct log_record	 rec;
	unsigned char		 digest[SHA256_LEN];
	char			 hash[SHA256_HEX_LEN + 1];
	bool			 holds;

	if (log_record_read(v->reader, line->text, line->len, &rec, v->why, sizeof(v->why)) == -1)
		return 1;
	sha256(line->text, line->len + 1, digest);
	hex_encode(digest, SHA256_LEN, hash);
	holds = chain_holds(v, &rec, line) && head_holds(v, rec.view.seq, hash);
	if (holds) {
		if (v->records++ == 0) {
			v->first_seq = rec.view.seq;
			v->first_file = line->file;
		}
		v->last_seq = rec.view.seq;
		memcpy(v->last_hash, hash, sizeof(v->last_hash));
		v->last_file = line->file;
		v->last_lineno = line->lineno;
	}
	v->bytes += line->len + 1;
	progress_update(v->progress, v->records, v->bytes, v->total);
	log_record_free(&rec);
	return holds ? 0 : 1;
}

/* --- the verdict --------------------------------------------------------------------- */

static void
print_files(char *const files[], int nfiles)
{
	int	 i;

	for (i = 0; i < nfiles; i++)
		printf("%s%s", i > 0 ? " " : "", files[i]);
	printf(": ");
}

/* After an intact scan: does it reach the head asked for? Sets v->why when not. */
static bool
head_reached(struct verify *v)
{
	struct head_mark	*mark = &v->head;

	if (!mark->set || mark->seen)
		return true;
	if (v->records == 0)
		snprintf(v->why, sizeof(v->why), "head %" PRIu64 ":%s not reached: no record "
		    "in the files", mark->seq, mark->hash);
	else if (mark->seq < v->first_seq)
		snprintf(v->why, sizeof(v->why), "head %" PRIu64 ":%s not in the files: they "
		    "start at seq %" PRIu64 " (give the older files too)", mark->seq, mark->hash,
		    v->first_seq);
	else
		snprintf(v->why, sizeof(v->why), "head %" PRIu64 ":%s not reached: log ends at "
		    "seq %" PRIu64, mark->seq, mark->hash, v->last_seq);
	return false;
}

static void
print_summary(const struct verify *v, char *const files[], int nfiles)
{
	print_files(files, nfiles);
	if (v->records == 0) {
		printf("0 records\n");
		return;
	}
	printf("%" PRIu64 " record%s, seq %" PRIu64 "..%" PRIu64 ", head %" PRIu64 ":%s",
	    v->records, v->records == 1 ? "" : "s", v->first_seq, v->last_seq, v->last_seq,
	    v->last_hash);
	if (v->head.set)
		printf(", reaches %" PRIu64 ":%s", v->head.seq, v->head.hash);
	printf("\n");
	if (v->first_seq > 1)
		msg("note: %s:1: the files start at seq %" PRIu64 "; its prev links to a record "
		    "not given, so the start of the log is not verified", v->first_file,
		    v->first_seq);
}

/* The verdict for damage found while scanning: one line naming the file and line. */
static int
report_scan(struct verify *v, enum scan_end end, const struct scan_at *at)
{
	switch (end) {
	case SCAN_DONE:
		return EX_OK;
	case SCAN_STOPPED:
		break;
	case SCAN_TORN:
		snprintf(v->why, sizeof(v->why), "incomplete last line (torn)");
		break;
	case SCAN_TOO_LONG:
		snprintf(v->why, sizeof(v->why), "line longer than %zu bytes", LOG_LINE_MAX);
		break;
	case SCAN_UNREADABLE:
		return EXIT_UNREADABLE;
	}
	printf("%s:%" PRIu64 ": %s\n", at->file, at->lineno, v->why);
	return EXIT_DAMAGED;
}

static void
verify_free(struct verify *v)
{
	log_reader_free(v->reader);
	free(v);
}

static const struct option verify_options[] = {
	{ "head",	required_argument,	NULL, 'H' },
	{ NULL,		0,			NULL, 0 }
};

int
cmd_verify(int argc, char **argv)
{
	struct verify	*v;
	struct scan_at	 at;
	enum scan_end	 end;
	int		 ch, rc;

	if ((v = calloc(1, sizeof(*v))) == NULL || (v->reader = log_reader_new()) == NULL) {
		msg("out of memory");
		free(v);
		return EXIT_UNREADABLE;
	}
	while ((ch = getopt_long(argc, argv, "", verify_options, NULL)) != -1) {
		if (ch == 'H' && head_mark_parse(optarg, &v->head) == 0)
			continue;
		if (ch == 'H')
			msg("--head: not SEQ:HASH as idwise-log head prints it: %s", optarg);
		verify_free(v);
		return cmd_usage(argv[0]);
	}
	if (optind == argc) {
		verify_free(v);
		return cmd_usage(argv[0]);
	}
	v->total = progress_files_size(argv + optind, argc - optind);
	v->progress = progress_start("verify");
	end = log_scan(argv + optind, argc - optind, verify_line, v, &at);
	progress_end(v->progress);
	if ((rc = report_scan(v, end, &at)) == EX_OK) {
		if (head_reached(v))
			print_summary(v, argv + optind, argc - optind);
		else {
			printf("%s: %s\n", argv[argc - 1], v->why);
			rc = EXIT_DAMAGED;
		}
	}
	verify_free(v);
	return rc;
}
