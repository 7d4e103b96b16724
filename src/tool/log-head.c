/* SPDX-License-Identifier: ISC */
/*
 * log-head.c: `idwise-log head`: the last record's SEQ:HASH, read from the end of the last
 * non-empty file, so that an operator can keep it elsewhere and later prove with
 * `verify --head` that the log still reaches it.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "idwise-log.h"
#include "log-check.h"
#include "logformat.h"
#include "util.h"

#define WHY_LEN		256

struct head {
	const char	*file;
	uint64_t	 seq;
	char		 hash[SHA256_HEX_LEN + 1];
};

/*
 * The last line of a file of size bytes (> 0), without its '\n'. A torn tail after it
 * fails, as verify fails the same files: the head printed is one verify can reach. EX_OK,
 * EXIT_DAMAGED (said why) or EXIT_UNREADABLE.
 */
static int
last_line(int fd, const char *file, off_t size, struct log_last *last)
{
	enum line_got	 got = logformat_last_line(fd, size, last);

	if (got == LINE_OK && last->torn == 0)
		return EX_OK;
	if (got == LINE_OK || got == LINE_END)
		msg("%s: incomplete last line (torn)", file);
	else if (got == LINE_TOO_LONG)
		msg("%s: last line longer than %zu bytes", file, LOG_LINE_MAX);
	else {
		msg("%s: read: %s", file, errno == 0 ? "file shrank" : strerror(errno));
		return EXIT_UNREADABLE;
	}
	return EXIT_DAMAGED;
}

/* The head from a file's last line. */
static int
head_of_line(struct head *h, const char *file, const char *line, size_t len)
{
	struct log_reader	*reader;
	struct log_record	 rec;
	unsigned char		 digest[SHA256_LEN];
	char			 why[WHY_LEN];
	int			 rc;

	if ((reader = log_reader_new()) == NULL) {
		msg("out of memory");
		return EXIT_UNREADABLE;
	}
	rc = log_record_read(reader, line, len, &rec, why, sizeof(why));
	log_reader_free(reader);
	if (rc == -1) {
		msg("%s: last line: %s", file, why);
		return EXIT_DAMAGED;
	}
	h->file = file;
	h->seq = rec.view.seq;
	sha256(line, len + 1, digest);
	hex_encode(digest, SHA256_LEN, h->hash);
	log_record_free(&rec);
	return EX_OK;
}

/* EX_OK with *found telling whether the file held a record, or the error status. */
static int
head_of_file(struct head *h, const char *file, bool *found)
{
	struct log_last	 last = { NULL, NULL, 0, 0 };
	struct stat	 st;
	int		 fd, rc;

	*found = false;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		msg_errno("%s", file);
		return EXIT_UNREADABLE;
	}
	if (fstat(fd, &st) == -1) {
		msg_errno("%s: fstat", file);
		rc = EXIT_UNREADABLE;
	} else if (!S_ISREG(st.st_mode)) {
		msg("%s: not a regular file", file);
		rc = EXIT_UNREADABLE;
	} else if (st.st_size == 0)
		rc = EX_OK;
	else if ((rc = last_line(fd, file, st.st_size, &last)) == EX_OK &&
	    (rc = head_of_line(h, file, last.text, last.len)) == EX_OK)
		*found = true;
	free(last.buf);
	if (close(fd) == -1)
		msg_errno("%s: close", file);
	return rc;
}

static int
print_json(const struct head *h)
{
	json_object	*obj;
	int		 rc = 0;

	if ((obj = json_object_new_object()) == NULL)
		return -1;
	rc |= json_put(obj, "seq", json_object_new_int64((int64_t)h->seq));
	rc |= json_put(obj, "hash", json_object_new_string(h->hash));
	rc |= json_put(obj, "file", json_object_new_string(h->file));
	if (rc == 0)
		printf("%s\n", json_object_to_json_string_ext(obj,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	return rc == 0 ? 0 : -1;
}

int
cmd_head(int argc, char **argv)
{
	struct head	 h;
	bool		 json, found = false;
	int		 i, rc;

	if ((rc = cmd_json_args(argc, argv, &json)) != EX_OK)
		return rc;
	/* The newest file is empty right after a rotation: the head is in an older one. */
	for (i = argc - 1; i >= optind && rc == EX_OK && !found; i--)
		rc = head_of_file(&h, argv[i], &found);
	if (rc != EX_OK)
		return rc;
	if (!found) {
		msg("%s: no record in the file%s given", argv[argc - 1],
		    argc - optind == 1 ? "" : "s");
		return EXIT_DAMAGED;
	}
	if (!json)
		printf("%" PRIu64 ":%s\n", h.seq, h.hash);
	else if (print_json(&h) == -1) {
		msg("out of memory");
		return EXIT_UNREADABLE;
	}
	return EX_OK;
}
