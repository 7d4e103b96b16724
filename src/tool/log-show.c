/* SPDX-License-Identifier: ISC */
/*
 * log-show.c: `idwise-log show`: every record the log and its rotated files hold about
 * one journey, reference number or event id, oldest first: a short timeline, or the
 * records as stored with --json. A line is parsed only if it holds the value asked for
 * (filter_may_match), which keeps a search of a million records to about a second.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "idwise-log.h"
#include "log-check.h"
#include "log-filter.h"
#include "log-scan.h"
#include "logformat.h"
#include "util.h"

#define WHY_LEN		256
#define SHOWN_MAX	64	/* bytes of a decision's value shown */

/* A record found, kept until the end to be put in seq order. */
struct match {
	struct log_record	 rec;
	char			*line;		/* as stored, without its '\n' */
	size_t			 len;
	const char		*file;
};

struct show {
	struct filter		 filter;
	struct log_reader	*reader;
	bool			 json;
	char			**files;	/* the rotated files, then the log */
	int			 nfiles;
	struct match		*matches;
	size_t			 nmatches, size;
	int			 status;	/* EX_OK, or the worst seen */
	bool			 out_of_memory;	/* said: no file more is read */
	char			 why[WHY_LEN];
};

static void
worse(struct show *sh, int status)
{
	if (sh->status == EX_OK || status == EXIT_UNREADABLE)
		sh->status = status;
}

/* --- the files: the rotated ones next to the log, then the log --------------------- */

static int
add_file(struct show *sh, const char *path)
{
	char	**grown;

	if ((grown = reallocarray(sh->files, (size_t)sh->nfiles + 1, sizeof(*grown))) == NULL)
		return -1;
	sh->files = grown;
	if ((sh->files[sh->nfiles] = strdup(path)) == NULL)
		return -1;
	sh->nfiles++;
	return 0;
}

/* A rotated file is read; a compressed one cannot be, and the user is told. */
static int
add_sibling(const struct log_sibling *sib, void *arg)
{
	struct show	*sh = arg;

	if (sib->kind == LOG_NAME_ROTATED)
		return add_file(sh, sib->path);
	msg("note: %s: compressed, not read; to search it too, decompress it next to the log",
	    sib->path);
	return 0;
}

static int
find_files(struct show *sh, const char *log)
{
	if (logformat_siblings(log, add_sibling, sh) == -1 || add_file(sh, log) == -1) {
		if (errno == ENOMEM)
			msg("out of memory");
		else
			msg_errno("%s: looking for its rotated files", log);
		return -1;
	}
	return 0;
}

/* --- reading: the lines that hold the value, as records ---------------------------- */

static int
keep(struct show *sh, const struct scan_line *line, struct log_record *rec)
{
	struct match	*m, *grown;

	if (sh->nmatches == sh->size) {
		sh->size = sh->size == 0 ? 16 : sh->size * 2;
		if ((grown = reallocarray(sh->matches, sh->size, sizeof(*grown))) == NULL)
			return -1;
		sh->matches = grown;
	}
	m = &sh->matches[sh->nmatches];
	if ((m->line = malloc(line->len + 1)) == NULL)
		return -1;
	memcpy(m->line, line->text, line->len);
	m->line[line->len] = '\0';
	m->len = line->len;
	m->file = line->file;
	m->rec = *rec;
	sh->nmatches++;
	return 0;
}

/* A line that holds the value but is no record is said, and the search goes on. */
static int
show_line(const struct scan_line *line, void *arg)
{
	struct show		*sh = arg;
	struct log_record	 rec;

	if (!filter_may_match(&sh->filter, line->text, line->len))
		return 0;
	if (log_record_read(sh->reader, line->text, line->len, &rec, sh->why,
	    sizeof(sh->why)) == -1) {
		msg("%s:%" PRIu64 ": %s", line->file, line->lineno, sh->why);
		worse(sh, EXIT_DAMAGED);
		return 0;
	}
	if (!filter_match(&sh->filter, &rec.view)) {
		log_record_free(&rec);
		return 0;
	}
	if (keep(sh, line, &rec) == 0)
		return 0;
	log_record_free(&rec);
	msg("out of memory");
	worse(sh, EXIT_UNREADABLE);
	sh->out_of_memory = true;
	return 1;
}

/* One file; each is read even when one before it was damaged or unreadable. */
static void
read_file(struct show *sh, char *file)
{
	struct scan_at	 at;

	switch (log_scan(&file, 1, show_line, sh, &at)) {
	case SCAN_DONE:
	case SCAN_STOPPED:	/* out of memory: said */
		break;
	case SCAN_TORN:
		msg("note: %s:%" PRIu64 ": incomplete last line (torn, or being written): not "
		    "read", at.file, at.lineno);
		break;
	case SCAN_TOO_LONG:
		msg("%s:%" PRIu64 ": line longer than %zu bytes; the rest of the file is not read",
		    at.file, at.lineno, LOG_LINE_MAX);
		worse(sh, EXIT_DAMAGED);
		break;
	case SCAN_UNREADABLE:
		worse(sh, EXIT_UNREADABLE);
		break;
	}
}

static int
by_seq(const void *a, const void *b)
{
	const struct match	*x = a, *y = b;

	return (x->rec.view.seq > y->rec.view.seq) - (x->rec.view.seq < y->rec.view.seq);
}

/* In seq order; a seq found twice (a rotated file kept under two names) is shown once. */
static void
order_matches(struct show *sh)
{
	size_t	 i, kept = 0;

	if (sh->nmatches == 0)
		return;
	qsort(sh->matches, sh->nmatches, sizeof(*sh->matches), by_seq);
	for (i = 1; i < sh->nmatches; i++) {
		if (sh->matches[i].rec.view.seq != sh->matches[kept].rec.view.seq) {
			sh->matches[++kept] = sh->matches[i];
			continue;
		}
		msg("note: seq %" PRIu64 " is in %s and in %s: shown once",
		    sh->matches[i].rec.view.seq, sh->matches[kept].file, sh->matches[i].file);
		log_record_free(&sh->matches[i].rec);
		free(sh->matches[i].line);
	}
	sh->nmatches = kept + 1;
}

/* --- the timeline ------------------------------------------------------------------ */

/* The members of the body that decide the outcome, in the order they are looked at. */
static const char *const decision_members[] = {
	"finalDecision", "manualDecision", "systemDecision"
};

/* ` NAME="VALUE"` for each decision member that is there and not null. */
static void
print_decisions(const struct record_view *view)
{
	char		 shown[SHOWN_ESCAPED_LEN(SHOWN_MAX)];
	json_object	*body, *value;
	size_t		 i;
	bool		 any = false;

	if (!json_object_object_get_ex(view->json, "body", &body))
		body = NULL;
	for (i = 0; i < nitems(decision_members); i++) {
		if (body == NULL || !json_object_object_get_ex(body, decision_members[i],
		    &value) || value == NULL)
			continue;
		if (json_object_is_type(value, json_type_string))
			printf(" %s=\"%s\"", decision_members[i],
			    escape_shown(json_object_get_string(value), SHOWN_MAX, shown));
		else
			printf(" %s=%s", decision_members[i], escape_shown(
			    json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN),
			    SHOWN_MAX, shown));
		any = true;
	}
	if (!any)
		printf(" -");
}

static int
width_of(uint64_t n)
{
	return snprintf(NULL, 0, "%" PRIu64, n);
}

static void
print_timeline(const struct show *sh)
{
	const struct record_view *view;
	int		 seqw = 3, typew = 4, outw = 7;
	size_t		 i;

	for (i = 0; i < sh->nmatches; i++) {
		view = &sh->matches[i].rec.view;
		seqw = width_of(view->seq) > seqw ? width_of(view->seq) : seqw;
		typew = (int)strlen(view->type) > typew ? (int)strlen(view->type) : typew;
		outw = (int)strlen(view->outcome) > outw ? (int)strlen(view->outcome) : outw;
	}
	printf("%-*s  %*s  %-*s  %-*s  %s\n", RFC3339_MS_LEN, "received_at", seqw, "seq",
	    typew, "type", outw, "outcome", "decision");
	for (i = 0; i < sh->nmatches; i++) {
		view = &sh->matches[i].rec.view;
		/* log_record_read checked received_at: the record's own text is the time. */
		printf("%-*s  %*" PRIu64 "  %-*s  %-*s ", RFC3339_MS_LEN,
		    record_string(view, "received_at"), seqw, view->seq,
		    typew, view->type, outw, view->outcome);
		print_decisions(view);
		printf("%s\n", view->conflict ? "  conflict" : "");
	}
}

static void
print_records(const struct show *sh)
{
	size_t	 i;

	for (i = 0; i < sh->nmatches; i++)
		printf("%s\n", sh->matches[i].line);
}

/* --- the command ------------------------------------------------------------------- */

static const struct option show_options[] = {
	{ "json",	no_argument,	NULL, 'j' },
	FILTER_LOOKUP_LONG_OPTIONS,
	{ NULL,		0,		NULL, 0 }
};

/* "[--json] --journey ID | --reference REF | --id ID ... LOG": EX_OK or EX_USAGE. */
static int
show_args(struct show *sh, int argc, char **argv)
{
	int	 ch;

	while ((ch = getopt_long(argc, argv, "", show_options, NULL)) != -1) {
		if (ch == 'j')
			sh->json = true;
		else if (filter_option(&sh->filter, ch, optarg) != 1)
			return cmd_usage(argv[0]);
	}
	if (!filter_has_values(&sh->filter)) {
		msg("say what to show: --journey ID, --reference REF or --id ID");
		return cmd_usage(argv[0]);
	}
	return optind == argc - 1 ? EX_OK : cmd_usage(argv[0]);
}

static void
show_free(struct show *sh)
{
	size_t	 i;
	int	 f;

	for (i = 0; i < sh->nmatches; i++) {
		log_record_free(&sh->matches[i].rec);
		free(sh->matches[i].line);
	}
	free(sh->matches);
	for (f = 0; f < sh->nfiles; f++)
		free(sh->files[f]);
	free(sh->files);
	filter_free(&sh->filter);
	log_reader_free(sh->reader);
}

/* Nothing found: say where it was looked for. */
static void
say_none(const struct show *sh, const char *log)
{
	msg("%s: no record with that %s in the log or its %d rotated file%s", log,
	    sh->filter.want[FILTER_ID].n > 0 ? "id" : sh->filter.want[FILTER_JOURNEY].n > 0 ?
	    "journey" : "reference number", sh->nfiles - 1, sh->nfiles == 2 ? "" : "s");
}

int
cmd_show(int argc, char **argv)
{
	struct show	 sh;
	int		 f, rc;

	memset(&sh, 0, sizeof(sh));
	if ((sh.reader = log_reader_new()) == NULL) {
		msg("out of memory");
		return EXIT_UNREADABLE;
	}
	if ((rc = show_args(&sh, argc, argv)) != EX_OK) {
		show_free(&sh);
		return rc;
	}
	if (find_files(&sh, argv[optind]) == -1) {
		show_free(&sh);
		return EXIT_UNREADABLE;
	}
	for (f = 0; f < sh.nfiles && !sh.out_of_memory; f++)
		read_file(&sh, sh.files[f]);
	order_matches(&sh);
	if (sh.json)
		print_records(&sh);
	else if (sh.nmatches > 0)
		print_timeline(&sh);
	if (sh.nmatches == 0 && sh.status == EX_OK) {
		say_none(&sh, argv[optind]);
		sh.status = EXIT_DAMAGED;
	}
	rc = sh.status;
	show_free(&sh);
	return rc;
}
