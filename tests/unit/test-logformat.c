/* SPDX-License-Identifier: ISC */
/*
 * test-logformat.c: the files of a log (logformat.h): each kind of name next to the log
 * (rotated, compressed, the writer's and other tools' side files, other files), the
 * directory listing, a rotated file found by its identity; and its lines: read in order
 * (by offset and from a pipe), a torn tail, a line being written, a tail cut and written
 * over, the last line read from the end.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <unistd.h>

#include "logformat.h"
#include "tap.h"

static char	 dir[] = "/tmp/test-logformat.XXXXXX";

/* A step of the set-up that must work. */
static void
must(int rc, const char *what)
{
	if (rc == -1) {
		printf("Bail out! %s: %s\n", what, strerror(errno));
		exit(1);
	}
}

static char *
at(const char *name)
{
	static char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void
put_file(const char *name, const char *text)
{
	int	 fd;

	must(fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, 0600), name);
	must(write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1, name);
	close(fd);
}

/* --- names --------------------------------------------------------------------------- */

static const struct {
	const char	*name;
	enum log_name	 kind;
} names[] = {
	{ "events.jsonl",		LOG_NAME_CURRENT },
	{ "events.jsonl.1",		LOG_NAME_ROTATED },
	{ "events.jsonl.12",		LOG_NAME_ROTATED },
	{ "events.jsonl-20261125",	LOG_NAME_ROTATED },
	{ "events.jsonl.2026-11-25",	LOG_NAME_ROTATED },
	{ "events.jsonl.1.gz",		LOG_NAME_COMPRESSED },
	{ "events.jsonl-20261125.gz",	LOG_NAME_COMPRESSED },
	{ "events.jsonl.2.xz",		LOG_NAME_COMPRESSED },
	{ "events.jsonl.2.bz2",		LOG_NAME_COMPRESSED },
	{ "events.jsonl.2.zst",		LOG_NAME_COMPRESSED },
	{ "events.jsonl.2.lz4",		LOG_NAME_COMPRESSED },
	{ "events.jsonl.2.lzma",	LOG_NAME_COMPRESSED },
	{ "events.jsonl.2.lzo",		LOG_NAME_COMPRESSED },
	{ "events.jsonl.2.Z",		LOG_NAME_COMPRESSED },
	{ "events.jsonl.2.br",		LOG_NAME_COMPRESSED },
	{ "events.jsonl.idx",		LOG_NAME_SIDE },
	{ "events.jsonl.idx-lock",	LOG_NAME_SIDE },
	{ "events.jsonl.shm",		LOG_NAME_SIDE },
	{ "events.jsonl.torn",		LOG_NAME_SIDE },
	{ "events.jsonl.lock",		LOG_NAME_SIDE },
	{ "events.jsonl.tmp",		LOG_NAME_SIDE },
	{ "events.jsonl.1.tmp",		LOG_NAME_SIDE },
	{ "events.jsonl.",		LOG_NAME_OTHER },
	{ "events.jsonl-",		LOG_NAME_OTHER },
	{ "events.jsonlx",		LOG_NAME_OTHER },
	{ "events.json",		LOG_NAME_OTHER },
	{ "other.jsonl.1",		LOG_NAME_OTHER },
	{ "..",				LOG_NAME_OTHER },
};

static void
test_names(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		is_int(logformat_name(names[i].name, "events.jsonl"), names[i].kind,
		    "%s is kind %d", names[i].name, (int)names[i].kind);
}

/* --- the directory ------------------------------------------------------------------- */

struct seen {
	int	 rotated, compressed, other;
	bool	 side_given;
};

static int
count_sibling(const struct log_sibling *sib, void *arg)
{
	struct seen	*seen = arg;

	if (strncmp(sib->path, dir, strlen(dir)) != 0 ||
	    strcmp(sib->path + strlen(dir) + 1, sib->name) != 0)
		seen->other++;
	else if (sib->kind == LOG_NAME_ROTATED)
		seen->rotated++;
	else if (sib->kind == LOG_NAME_COMPRESSED)
		seen->compressed++;
	else
		seen->other++;
	if (strstr(sib->name, ".idx") != NULL || strstr(sib->name, ".lock") != NULL ||
	    strstr(sib->name, ".tmp") != NULL)
		seen->side_given = true;
	return 0;
}

static int
stop_at_first(const struct log_sibling *sib, void *arg)
{
	(void)sib;
	(*(int *)arg)++;
	return 7;
}

static void
test_siblings(void)
{
	static const char *const files[] = {
		"events.jsonl", "events.jsonl.1", "events.jsonl-20261125", "events.jsonl.2.gz",
		"events.jsonl.3.lzo", "events.jsonl.4.br", "events.jsonl.idx",
		"events.jsonl.idx-lock", "events.jsonl.shm", "events.jsonl.torn",
		"events.jsonl.lock", "events.jsonl.tmp", "other.log",
	};
	struct seen	 seen;
	struct stat	 st;
	char		*path = NULL;
	size_t		 i;
	int		 calls = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put_file(files[i], "");
	memset(&seen, 0, sizeof(seen));
	is_int(logformat_siblings(at("events.jsonl"), count_sibling, &seen), 0,
	    "the log's directory is listed");
	is_int(seen.rotated, 2, "  two rotated files (.1 and -20261125)");
	is_int(seen.compressed, 3, "  three compressed ones (.gz, .lzo, .br)");
	is_int(seen.other, 0, "  nothing else, each as its directory and name");
	ok(!seen.side_given, "  no side file (.idx, .idx-lock, .shm, .torn, .lock, .tmp)");
	is_int(logformat_siblings(at("events.jsonl"), stop_at_first, &calls), 7,
	    "a listing stops at the first non-zero, and returns it");
	is_int(calls, 1, "  after one call");
	ok(logformat_siblings("/nonexistent/dir/events.jsonl", count_sibling, &seen) == -1 &&
	    errno == ENOENT, "a directory that is not there: -1, ENOENT");

	ok(logformat_has_compressed(at("events.jsonl")), "a compressed rotated file is seen");
	must(stat(at("events.jsonl-20261125"), &st), "stat");
	is_int(logformat_find_rotated(at("events.jsonl"), (uint64_t)st.st_dev,
	    (uint64_t)st.st_ino, &path), 1, "a rotated file is found by its identity");
	is_str(path, at("events.jsonl-20261125"), "  at its path");
	free(path);
	must(stat(at("events.jsonl"), &st), "stat");
	is_int(logformat_find_rotated(at("events.jsonl"), (uint64_t)st.st_dev,
	    (uint64_t)st.st_ino, &path), 0, "the current file is not a rotated one");
	must(stat(at("events.jsonl.lock"), &st), "stat");
	is_int(logformat_find_rotated(at("events.jsonl"), (uint64_t)st.st_dev,
	    (uint64_t)st.st_ino, &path), 0, "nor is a side file");

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strstr(files[i], ".gz") != NULL || strstr(files[i], ".lzo") != NULL)
			must(unlink(at(files[i])), "unlink");
	ok(logformat_has_compressed(at("events.jsonl")), "a .br file alone is compressed too");
	must(unlink(at("events.jsonl.4.br")), "unlink");
	ok(!logformat_has_compressed(at("events.jsonl")), "no compressed file left: none seen");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(at(files[i]));
}

/* --- lines --------------------------------------------------------------------------- */

static int
open_text(const char *name, const char *text)
{
	int	 fd;

	put_file(name, text);
	must(fd = open(at(name), O_RDWR | O_APPEND), name);
	return fd;
}

static bool
line_is(struct log_lines *r, off_t off, const char *want)
{
	struct log_line	 line;

	return logformat_line(r, off, &line) == LINE_OK && line.at == off &&
	    line.len == strlen(want) && memcmp(line.text, want, line.len) == 0 &&
	    line.text[line.len] == '\n';
}

static void
test_lines(void)
{
	struct log_lines	 r;
	struct log_line		 line;
	int			 fd;

	fd = open_text("lines", "a\nbb\n\nccc");
	logformat_lines_init(&r, fd, -1, false);
	ok(line_is(&r, 0, "a") && line_is(&r, 2, "bb") && line_is(&r, 5, ""),
	    "lines by their offsets, an empty one too");
	ok(line_is(&r, 2, "bb"), "a line asked for again");
	ok(logformat_line(&r, 6, &line) == LINE_END && line.len == 3 &&
	    memcmp(line.text, "ccc", 3) == 0, "a torn tail: LINE_END and its bytes");
	ok(logformat_line(&r, 9, &line) == LINE_END && line.len == 0, "at the end: nothing");
	must(write(fd, "c\n", 2) == 2 ? 0 : -1, "write");
	ok(line_is(&r, 6, "cccc"), "the line once it is written whole");
	must(ftruncate(fd, 11), "ftruncate");
	must(write(fd, "dddddd", 6) == 6 ? 0 : -1, "write");
	ok(logformat_line(&r, 11, &line) == LINE_END && line.len == 6, "a torn tail again");
	must(ftruncate(fd, 11), "ftruncate");
	must(write(fd, "ee\n", 3) == 3 ? 0 : -1, "write");
	ok(line_is(&r, 11, "ee"), "a torn tail cut and written over: only the new line");
	logformat_lines_free(&r);

	logformat_lines_init(&r, fd, 4, false);
	ok(line_is(&r, 0, "a") && logformat_line(&r, 2, &line) == LINE_END && line.len == 2,
	    "nothing is read from the end given on");
	logformat_lines_free(&r);
	close(fd);
}

static void
test_long_line(void)
{
	struct log_lines	 r;
	struct log_line		 line;
	size_t			 len = 300 * 1024, i;
	char			*text;
	bool			 same = true;
	int			 fd;

	if ((text = malloc(len + 4)) == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	for (i = 0; i < len; i++)
		text[i] = (char)('a' + i % 26);
	memcpy(text + len, "\nz\n", 4);
	fd = open_text("long", text);
	logformat_lines_init(&r, fd, -1, false);
	ok(logformat_line(&r, 0, &line) == LINE_OK && line.len == len,
	    "a line longer than the first read, whole");
	for (i = 0; i < len && same; i++)
		same = line.text[i] == text[i];
	ok(same, "  with its bytes");
	ok(line_is(&r, (off_t)len + 1, "z"), "and the line after it");
	logformat_lines_free(&r);
	close(fd);
	free(text);
}

static void
test_pipe(void)
{
	struct log_lines	 r;
	struct log_line		 line;
	int			 fds[2];

	must(pipe(fds), "pipe");
	must(write(fds[1], "one\ntwo\nthr", 11) == 11 ? 0 : -1, "write");
	close(fds[1]);
	logformat_lines_init(&r, fds[0], -1, true);
	ok(line_is(&r, 0, "one") && line_is(&r, 4, "two"), "a pipe, read in order");
	ok(logformat_line(&r, 8, &line) == LINE_END && line.len == 3, "  and its torn tail");
	ok(logformat_line(&r, 0, &line) == LINE_ERROR && errno == EINVAL,
	    "  going back in a pipe: an error");
	logformat_lines_free(&r);
	close(fds[0]);
}

static int
take_two(const char *text, size_t len, off_t off, void *arg)
{
	int	*n = arg;

	(void)text;
	(void)len;
	(void)off;
	return ++*n == 2 ? 5 : 0;
}

static void
test_each_line(void)
{
	off_t	 end;
	int	 fd, n = 0;

	fd = open_text("each", "a\nbb\nccc\ndd");
	is_int(logformat_each_line(fd, 0, 11, take_two, &n, &end), 5,
	    "each_line stops when fn says so, and returns what it said");
	is_int(end, 2, "  the end is the start of the line it stopped at");
	n = -10;
	is_int(logformat_each_line(fd, 2, 11, take_two, &n, &end), 0, "each line from an offset");
	is_int(end, 9, "  the end is after the last whole line");
	close(fd);
}

/* --- the last line ------------------------------------------------------------------- */

static enum line_got
last_of(const char *text, struct log_last *last, char *out, size_t size)
{
	enum line_got	 got;
	int		 fd;

	fd = open_text("last", text);
	got = logformat_last_line(fd, (off_t)strlen(text), last);
	out[0] = '\0';
	if (got == LINE_OK)
		snprintf(out, size, "%.*s", (int)last->len, last->text);
	free(last->buf);
	close(fd);
	return got;
}

static void
test_last_line(void)
{
	struct log_last	 last;
	char		 line[64], *big;
	size_t		 len = 200 * 1024, i;
	int		 fd;

	ok(last_of("a\nbb\n", &last, line, sizeof(line)) == LINE_OK && strcmp(line, "bb") == 0 &&
	    last.torn == 0, "the last line");
	ok(last_of("a\nbb\ncc", &last, line, sizeof(line)) == LINE_OK &&
	    strcmp(line, "bb") == 0 && last.torn == 2,
	    "the last whole line, and the torn tail after it");
	ok(last_of("only\n", &last, line, sizeof(line)) == LINE_OK && strcmp(line, "only") == 0,
	    "a file of one line");
	ok(last_of("torn", &last, line, sizeof(line)) == LINE_END && last.torn == 4,
	    "no whole line: LINE_END, all of it torn");
	ok(last_of("", &last, line, sizeof(line)) == LINE_END && last.torn == 0,
	    "an empty file: LINE_END, nothing torn");

	if ((big = malloc(len + 8)) == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	memcpy(big, "x\n", 2);
	for (i = 2; i < len; i++)
		big[i] = 'y';
	memcpy(big + len, "\nzz", 4);
	fd = open_text("last", big);
	ok(logformat_last_line(fd, (off_t)len + 3, &last) == LINE_OK && last.len == len - 2 &&
	    last.text[0] == 'y' && last.text[last.len - 1] == 'y' && last.torn == 2,
	    "a last line longer than the first window, whole");
	free(last.buf);
	ok(logformat_last_line(fd, (off_t)len + 30, &last) == LINE_ERROR && errno == 0,
	    "a file shorter than its size said: LINE_ERROR, errno 0");
	free(last.buf);
	close(fd);
	free(big);
	unlink(at("last"));
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_names();
	test_siblings();
	test_lines();
	test_long_line();
	test_pipe();
	test_each_line();
	test_last_line();
	unlink(at("lines"));
	unlink(at("long"));
	unlink(at("each"));
	rmdir(dir);
	return done_testing();
}
