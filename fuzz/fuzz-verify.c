/*
 * fuzz-verify.c: what `idwise-log verify` reads a log with: logfile_lines() over the file,
 * record_parse() of each line, record_follows() along the chain. The input is a log file's
 * bytes (in a memfd). Oracles: the lines handed over are exactly the complete lines of the
 * input, at their offsets, and end where the last newline does; a record that parses has a
 * seq of at least 1, a 64-character prev, an id, type and outcome, and parses the same
 * again; the chain is followed only from a record that parsed, and never claims that a
 * record follows with a seq other than last + 1 or a prev other than the last line's hash.
 */
#include "autoconf.h"

#include <sys/mman.h>

#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "logfile.h"
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
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void
check_view(const char *line, size_t len, const struct record_view *v)
{
	struct record_view	 again;
	const char		*why;

	FUZZ_CHECK(v->json != NULL, "a parsed record keeps its JSON");
	FUZZ_CHECK(v->seq >= 1, "seq at least 1");
	FUZZ_CHECK(strlen(v->prev) == SHA256_HEX_LEN, "prev is 64 characters");
	FUZZ_CHECK(v->id != NULL && strlen(v->id) <= v->id_len, "id present");
	FUZZ_CHECK(v->type != NULL && v->outcome != NULL, "type and outcome present");
	FUZZ_CHECK(record_parse(line, len, &again, &why) == 0, "parses again");
	FUZZ_CHECK(again.seq == v->seq && strcmp(again.prev, v->prev) == 0 &&
	    again.id_len == v->id_len && memcmp(again.id, v->id, v->id_len) == 0 &&
	    again.received_ms == v->received_ms && again.conflict == v->conflict &&
	    memcmp(again.body_digest, v->body_digest, SHA256_LEN) == 0,
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
	unsigned char		 hash[SHA256_LEN];
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
	if (record_parse(copy, len, &view, &why) == -1) {
		FUZZ_CHECK(why != NULL && view.json == NULL, "a refused line says why");
		free(copy);
		return 0;
	}
	check_view(copy, len, &view);
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
	rc = logfile_lines(fd, 0, (off_t)size, on_line, &w, &end);
	close(fd);
	FUZZ_CHECK(rc == 0, "every line is read");
	for (p = data; p < data + size; p++)
		if (*p == '\n')
			last_nl = p;
	FUZZ_CHECK(end == (last_nl == NULL ? 0 : last_nl - data + 1),
	    "the end is after the last newline");
	FUZZ_CHECK(end == w.next, "the end is where the last line ended");
	return 0;
}
