/* SPDX-License-Identifier: ISC */
/*
 * fuzz-verify.c: the log's readers over a log file's bytes (in a memfd): the writer's
 * (logformat_each_line(), record_parse(), record_follows()) and `idwise-log verify`'s
 * (log_scan(), log_record_read()). Oracles: the lines handed over are exactly the complete
 * lines of the input, at their offsets, and end where the last newline does; log_scan says
 * torn exactly when the input does not end in a newline; logformat_last_line() gives the
 * last complete line and the torn bytes after it; a record that parses has a seq of at
 * least 1, a 64-character prev, an id, type and outcome, and parses the same again; a line
 * verify's reader takes, the writer's reader takes too, with the same seq, prev, id, time,
 * conflict, type and outcome; the chain is said to follow exactly when seq is last + 1 and
 * prev is the last line's hash.
 */
#include "autoconf.h"

#include <sys/mman.h>

#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "idwise.h"
#include "log-check.h"
#include "log-scan.h"
#include "logformat.h"
#include "record.h"
#include "util.h"

struct walk {
	const uint8_t	*data;
	size_t		 size;
	off_t		 next;		/* where the next line must start */
	uint64_t	 last_seq;	/* of the last record that followed, 0 at the start */
	unsigned char	 last_hash[SHA256_LEN];
	size_t		 lines;
	size_t		 chained;
	size_t		 scanned;	/* lines log_scan handed over */
	const uint8_t	*scan_at;	/* where its next line must start */
	struct log_reader *reader;
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/*
 * A line read as the writer's recovery reads it, with a reader made for it (the verify
 * reader in w->reader is reused, so a parser left in a bad state would show): the record
 * and its body digest. 0, or -1 with why.
 */
static int
read_fresh(const char *line, size_t len, struct record_view *view,
    unsigned char digest[SHA256_LEN], const char **why)
{
	static char		 reason[256];
	struct log_reader	*reader;
	struct log_record	 rec;
	int			 rc;

	memset(view, 0, sizeof(*view));
	*why = reason;
	snprintf(reason, sizeof(reason), "out of memory");
	if ((reader = log_reader_new()) == NULL)
		return -1;
	rc = log_record_read(reader, line, len, &rec, reason, sizeof(reason));
	log_reader_free(reader);
	if (rc == -1)
		return -1;
	*view = rec.view;
	if (record_body_digest(view, digest) == -1) {
		record_view_free(view);
		return -1;
	}
	*why = NULL;
	return 0;
}

static void
check_view(const char *line, size_t len, const struct record_view *v,
    const unsigned char digest[SHA256_LEN])
{
	struct record_view	 again;
	unsigned char		 again_digest[SHA256_LEN];
	const char		*why;

	FUZZ_CHECK(v->json != NULL, "a parsed record keeps its JSON");
	FUZZ_CHECK(v->seq >= 1, "seq at least 1");
	FUZZ_CHECK(strlen(v->prev) == SHA256_HEX_LEN, "prev is 64 characters");
	FUZZ_CHECK(v->id != NULL && strlen(v->id) <= v->id_len, "id present");
	FUZZ_CHECK(v->type != NULL && v->outcome != NULL, "type and outcome present");
	FUZZ_CHECK(read_fresh(line, len, &again, again_digest, &why) == 0, "parses again");
	FUZZ_CHECK(again.seq == v->seq && strcmp(again.prev, v->prev) == 0 &&
	    again.id_len == v->id_len && memcmp(again.id, v->id, v->id_len) == 0 &&
	    again.received_ms == v->received_ms && again.conflict == v->conflict &&
	    memcmp(again_digest, digest, SHA256_LEN) == 0,
	    "parses the same again");
	record_view_free(&again);
}

static int
on_line(const char *line, size_t len, off_t at, void *arg)
{
	struct walk		*w = arg;
	struct record_view	 view;
	const char		*why = NULL, *gap;
	char			 hex[SHA256_HEX_LEN + 1];
	unsigned char		 hash[SHA256_LEN], digest[SHA256_LEN];
	char			*copy;

	FUZZ_CHECK(at == w->next, "lines come in order, each where the last one ended");
	FUZZ_CHECK((size_t)at + len < w->size && w->data[at + (off_t)len] == '\n',
	    "a line ends at a newline of the input");
	FUZZ_CHECK(memcmp(line, w->data + at, len) == 0, "a line is the input's bytes");
	FUZZ_CHECK(memchr(line, '\n', len) == NULL, "no newline inside a line");
	w->next = at + (off_t)len + 1;
	w->lines++;
	/* An exact copy, so that reading past the line is caught. */
	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		return 0;
	memcpy(copy, line, len);
	if (read_fresh(copy, len, &view, digest, &why) == -1) {
		FUZZ_CHECK(why != NULL && view.json == NULL, "a refused line says why");
		free(copy);
		return 0;
	}
	check_view(copy, len, &view, digest);
	gap = record_follows(&view, w->last_seq, w->last_hash);
	hex_encode(w->last_hash, SHA256_LEN, hex);
	FUZZ_CHECK((gap == NULL) == (view.seq == w->last_seq + 1 &&
	    strcmp(view.prev, hex) == 0), "follows exactly when seq and prev say so");
	/* Go on from this record, as a verifier that reports a break and goes on does. */
	sha256(w->data + at, len + 1, hash);	/* the line with its newline */
	memcpy(w->last_hash, hash, SHA256_LEN);
	w->last_seq = view.seq;
	w->chained += gap == NULL;
	record_view_free(&view);
	free(copy);
	return 0;
}

/* The reader reused over many lines (as verify does) takes what a fresh one takes. */
static void
check_verify_reader(struct log_reader *reader, const char *line, size_t len)
{
	struct log_record	 rec;
	struct record_view	 view;
	unsigned char		 digest[SHA256_LEN];
	const char		*why;
	char			 reason[256];

	if (log_record_read(reader, line, len, &rec, reason, sizeof(reason)) == -1) {
		FUZZ_CHECK(reason[0] != '\0' && rec.view.json == NULL, "verify's refusal says why");
		return;
	}
	FUZZ_CHECK(rec.type < IDWISE_TYPES && rec.outcome < IDWISE_OUTCOMES &&
	    strcmp(rec.view.type, idwise_type_name((int)rec.type)) == 0 &&
	    strcmp(rec.view.outcome, idwise_outcome_name((int)rec.outcome)) == 0,
	    "verify's record has a known type and outcome");
	if (read_fresh(line, len, &view, digest, &why) == -1) {
		fprintf(stderr, "a fresh reader refused what the reused one took: %s\n", why);
		abort();
	}
	FUZZ_CHECK(view.seq == rec.view.seq && strcmp(view.prev, rec.view.prev) == 0 &&
	    view.id_len == rec.view.id_len && memcmp(view.id, rec.view.id, view.id_len) == 0 &&
	    view.received_ms == rec.view.received_ms && view.conflict == rec.view.conflict &&
	    strcmp(view.type, rec.view.type) == 0 && strcmp(view.outcome, rec.view.outcome) == 0,
	    "a reused reader and a fresh one read the same record");
	record_view_free(&view);
	log_record_free(&rec);
}

static int
on_scan(const struct scan_line *line, void *arg)
{
	struct walk	*w = arg;
	char		*copy;

	FUZZ_CHECK(line->lineno == ++w->scanned, "log_scan numbers lines from 1");
	FUZZ_CHECK(line->text != NULL && line->text[line->len] == '\n',
	    "log_scan: a line ends at its newline");
	FUZZ_CHECK((size_t)(w->data + w->size - w->scan_at) > line->len &&
	    memcmp(line->text, w->scan_at, line->len) == 0, "log_scan: the input's bytes");
	w->scan_at += line->len + 1;
	if ((copy = malloc(line->len > 0 ? line->len : 1)) == NULL)
		return 0;
	memcpy(copy, line->text, line->len);
	check_verify_reader(w->reader, copy, line->len);
	free(copy);
	return 0;
}

static void
check_scan(struct walk *w, int fd, const uint8_t *last_nl)
{
	struct scan_at	 at;
	enum scan_end	 end;
	char		 path[64];
	char		*files[1] = { path };

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	w->scan_at = w->data;
	end = log_scan(files, 1, on_scan, w, &at);
	FUZZ_CHECK(w->scanned == w->lines, "log_scan and logformat_each_line see the same lines");
	if (w->size > 0 && w->data[w->size - 1] != '\n')
		FUZZ_CHECK(end == SCAN_TORN && at.lineno == w->lines + 1,
		    "log_scan: a last line without newline is torn");
	else
		FUZZ_CHECK(end == SCAN_DONE, "log_scan: done");
	FUZZ_CHECK(w->scan_at == (last_nl == NULL ? w->data : last_nl + 1),
	    "log_scan: every complete line");
}

/* The last line read from the end: the last complete line, the torn bytes after it. */
static void
check_last_line(int fd, const uint8_t *data, size_t size, const uint8_t *last_nl)
{
	struct log_last	 last;
	enum line_got	 got;
	const uint8_t	*start;
	size_t		 torn = last_nl == NULL ? size : size - (size_t)(last_nl - data) - 1;

	got = logformat_last_line(fd, (off_t)size, &last);
	FUZZ_CHECK(last.torn == (off_t)torn, "last line: the torn tail follows the last newline");
	if (last_nl == NULL)
		FUZZ_CHECK(got == LINE_END, "last line: none without a newline");
	else {
		for (start = last_nl; start > data && start[-1] != '\n'; start--)
			;
		FUZZ_CHECK(got == LINE_OK && last.len == (size_t)(last_nl - start) &&
		    memcmp(last.text, start, last.len) == 0, "last line: the last complete line");
	}
	free(last.buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct walk	 w;
	const uint8_t	*last_nl = NULL, *p;
	off_t		 end = -1;
	int		 fd, rc;

	if ((fd = memfd_create("fuzz-verify", MFD_CLOEXEC)) == -1)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	memset(&w, 0, sizeof(w));
	w.data = data;
	w.size = size;
	rc = logformat_each_line(fd, 0, (off_t)size, on_line, &w, &end);
	FUZZ_CHECK(rc == 0, "every line is read");
	for (p = data; p < data + size; p++)
		if (*p == '\n')
			last_nl = p;
	FUZZ_CHECK(end == (last_nl == NULL ? 0 : last_nl - data + 1),
	    "the end is after the last newline");
	FUZZ_CHECK(end == w.next, "the end is where the last line ended");
	check_last_line(fd, data, size, last_nl);
	if ((w.reader = log_reader_new()) != NULL) {
		check_scan(&w, fd, last_nl);
		log_reader_free(w.reader);
	}
	close(fd);
	return 0;
}
