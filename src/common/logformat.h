/* SPDX-License-Identifier: ISC */
/*
 * logformat.h: which files make up an event log, and how its lines are read. The one
 * place that knows the names (the current file, the files it was rotated into, their
 * compressed forms, and the files next to it that hold no records), the longest line a
 * log holds, how a file's lines are read in order, and how its last line is found.
 *
 * A line is the bytes before a '\n'. Bytes after a file's last '\n' are a torn tail (a
 * write cut short by a crash): never a record, and cut off by the writer's next append.
 * Every reader is told it is there, and decides what it means to it.
 */
#ifndef IDW_LOGFORMAT_H
#define IDW_LOGFORMAT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The longest line, its '\n' included. No record comes near it (max_body is at most
 * 64 MiB); a longer line, or a torn tail as long, is damage.
 */
#define LOG_LINE_MAX	((size_t)256 * 1024 * 1024)

/* --- the files of a log -------------------------------------------------------------- */

/*
 * What a name in the log's directory is to the log named base (events.jsonl). Rotated:
 * base, then '.' or '-', then anything (events.jsonl.1, events.jsonl-20261125,
 * events.jsonl.2026-11-25), unless it ends in a compressed or a side suffix. Compressed:
 * .gz .xz .bz2 .zst .lz4 .lzma .lzo .Z .br, which logrotate's compresscmd may make; they
 * hold records no reader here can read, so they end a search back through the rotated
 * files. Side: .idx and .idx-lock (the dedup index), .shm (the state file), .torn (torn
 * tails cut off), and .lock and .tmp (what other tools leave next to a file): never a log.
 */
/* The side files the writer makes next to the log: <log> and one of these. */
#define LOG_SUFFIX_INDEX	".idx"
#define LOG_SUFFIX_STATE	".shm"
#define LOG_SUFFIX_TORN		".torn"

enum log_name {
	LOG_NAME_OTHER,		/* not the log's */
	LOG_NAME_CURRENT,	/* the log itself */
	LOG_NAME_ROTATED,
	LOG_NAME_COMPRESSED,
	LOG_NAME_SIDE
};

enum log_name	logformat_name(const char *name, const char *base);

/* A rotated or compressed file next to the log, as logformat_siblings gives it. */
struct log_sibling {
	const char	*path;		/* the log's directory, '/', name */
	const char	*name;
	enum log_name	 kind;		/* LOG_NAME_ROTATED or LOG_NAME_COMPRESSED */
};

typedef int	(*sibling_fn)(const struct log_sibling *, void *);

/*
 * Call fn for each rotated and compressed file in the directory of the log at logpath,
 * in directory order, until it returns non-zero; returns that, 0 at the end, or -1 with
 * errno when the directory cannot be read or memory ran out.
 */
int	logformat_siblings(const char *logpath, sibling_fn fn, void *arg);
/*
 * The rotated file next to the log that is the file dev/ino (a rename keeps both): 1 with
 * *path (to free), 0 when there is none, -1 with errno.
 */
int	logformat_find_rotated(const char *logpath, uint64_t dev, uint64_t ino, char **path);
/* Is there a compressed rotated file next to the log? (No when the directory is unreadable.) */
bool	logformat_has_compressed(const char *logpath);

/* --- reading lines ------------------------------------------------------------------- */

/* The file's bytes around the line asked for, read in large blocks. */
struct log_lines {
	int	 fd;
	bool	 sequential;	/* read(2), for pipes: lines are asked for in order only */
	off_t	 end;		/* no byte from here on is read; -1: to the end */
	char	*buf;
	size_t	 size;
	size_t	 have;
	off_t	 buf_off;	/* buf holds the bytes [buf_off, buf_off + have) */
};

enum line_got {
	LINE_OK,		/* a whole line */
	LINE_END,		/* no whole line (yet): line->len bytes without '\n' follow */
	LINE_TOO_LONG,		/* the line goes on past LOG_LINE_MAX bytes (with '\n') */
	LINE_ERROR		/* a read failed: errno */
};

struct log_line {
	const char	*text;	/* text[len] is the '\n'; good until the next call */
	size_t		 len;
	off_t		 at;	/* the offset it starts at */
};

/* Bytes from `end` on are not read (-1: none such); sequential for a pipe. */
void		logformat_lines_init(struct log_lines *, int fd, off_t end, bool sequential);
void		logformat_lines_free(struct log_lines *);
/*
 * The line that starts at offset at. Bytes without a '\n' at the end of what was read are
 * read again on the next call (unless sequential), so a line being written is seen whole
 * once it is, and a torn tail cut and written over is never mixed with what replaced it.
 */
enum line_got	logformat_line(struct log_lines *, off_t at, struct log_line *);

/* Called with each whole line (without its '\n') and the offset it starts at. */
typedef int	(*line_fn)(const char *, size_t, off_t, void *);

/*
 * Call fn for each whole line from offset from up to to. Stops early when fn returns
 * non-zero and returns that; -1 on a read error, or (errno EFBIG) a line too long. *end
 * is the offset after the last line fn took, or of the one it stopped at.
 */
int	logformat_each_line(int fd, off_t from, off_t to, line_fn fn, void *arg, off_t *end);

/* A file's last whole line, read backwards from its end. */
struct log_last {
	char		*buf;	/* to free, also on failure */
	const char	*text;	/* the line without its '\n' */
	size_t		 len;
	off_t		 torn;	/* the bytes after it: a torn tail, usually 0 */
};

/*
 * The last whole line of the open file of size bytes: LINE_OK; LINE_END when no line is
 * whole (last->torn is then the file's size); LINE_TOO_LONG when it, or the torn tail
 * after it, is too long; LINE_ERROR with errno (0: the file shrank).
 */
enum line_got	logformat_last_line(int fd, off_t size, struct log_last *);

#endif
