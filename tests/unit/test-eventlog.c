/* SPDX-License-Identifier: ISC */
/*
 * test-eventlog.c: the writer on real files: new, duplicate, conflict, restart, torn tail,
 * a record a dead writer left, rotation, lost index, reboot, damage, unwritable directory,
 * many processes at once, and a FIFO or a link where the writer writes.
 */
#include "autoconf.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eventlog.h"
#include "idwise.h"
#include "log-check.h"
#include "record.h"
#include "tap.h"

/*
 * A line read back as the writer's recovery reads it: log_record_read, then the body's
 * canonical digest (into read_digest). -1 with *why when it is not a whole record.
 */
static unsigned char	 read_digest[SHA256_LEN];

static int
read_back(const char *line, size_t len, struct record_view *view, const char **why)
{
	static struct log_reader	*reader;
	static char			 reason[160];
	struct log_record		 rec;

	memset(view, 0, sizeof(*view));
	*why = reason;
	if (reader == NULL && (reader = log_reader_new()) == NULL) {
		snprintf(reason, sizeof(reason), "out of memory");
		return -1;
	}
	if (log_record_read(reader, line, len, &rec, reason, sizeof(reason)) == -1)
		return -1;
	*view = rec.view;
	if (record_body_digest(view, read_digest) == -1) {
		snprintf(reason, sizeof(reason), "out of memory");
		record_view_free(view);
		return -1;
	}
	*why = NULL;
	return 0;
}

static char	*slurp(const char *, size_t *);

static char	 dir[256], logpath[300], errpath[300];
/* As idwise-fcgi.conf's defaults with sync = data (dedup_window 24h). */
static struct eventlog_settings settings = { logpath, true, 24 * 3600 * 1000 };
static long	 err_seen;

/* Did the writer say this on stderr since the last call? */
static int
said(const char *needle)
{
	char	*text, *since;
	size_t	 len;
	int	 found;

	fflush(stderr);
	if ((text = slurp(errpath, &len)) == NULL)
		return 0;
	since = text + (err_seen <= (long)len ? err_seen : (long)len);
	found = needle != NULL ? strstr(since, needle) != NULL : *since != '\0';
	err_seen = (long)len;
	free(text);
	return found;
}

static int
setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/idwise-eventlog.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/events.jsonl", dir);
	snprintf(errpath, sizeof(errpath), "%s/stderr.log", dir);
	if (freopen(errpath, "a", stderr) == NULL)
		return -1;
	return 0;
}

static int
make_event(struct event *ev, const char *name, const char *body)
{
	json_object	*root;
	char		 text[1024];
	int		 rc;

	snprintf(text, sizeof(text), "{\"event\":\"%s\",\"body\":%s}", name, body);
	if ((root = json_tokener_parse(text)) == NULL)
		return -1;
	rc = event_classify(ev, root, (unsigned char *)text, strlen(text), "live", "127.0.0.1");
	json_object_put(root);
	return rc;
}

/* Append one delivery with eventId id and a decision. */
static enum append_result
append(struct eventlog *el, const char *id, const char *decision, uint64_t *seq)
{
	struct event		 ev;
	enum append_result	 r;
	char			 body[256];

	snprintf(body, sizeof(body), "{\"eventId\":\"%s\",\"journeyId\":\"j\","
	    "\"systemDecision\":\"%s\"}", id, decision);
	if (make_event(&ev, "Finished Journey", body) == -1)
		return APPEND_FAILED;
	*seq = 0;
	r = eventlog_append(el, &ev, seq);
	event_free(&ev);
	return r;
}

static char *
slurp(const char *path, size_t *len)
{
	struct stat	 st;
	char		*buf;
	int		 fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	*len = (size_t)read(fd, buf, (size_t)st.st_size);
	buf[*len] = '\0';
	close(fd);
	return buf;
}

/*
 * Check every line of the files (in order) is a record, seq runs first_seq.. without a gap
 * and prev chains, the first prev being first_prev (NULL: 64 zeros). Returns the count.
 */
static long
check_chain(const char *const *paths, uint64_t first_seq, const unsigned char *first_prev)
{
	struct record_view	 view;
	unsigned char		 hash[SHA256_LEN];
	const char		*why;
	char			*buf, *line, *nl;
	size_t			 len;
	uint64_t		 seq = first_seq - 1;
	long			 count = 0;

	if (first_prev != NULL)
		memcpy(hash, first_prev, SHA256_LEN);
	else
		memset(hash, 0, SHA256_LEN);
	for (; *paths != NULL; paths++) {
		if ((buf = slurp(*paths, &len)) == NULL)
			return -1;
		if (len > 0 && buf[len - 1] != '\n') {
			free(buf);
			return -1;
		}
		for (line = buf; line < buf + len; line = nl + 1) {
			nl = memchr(line, '\n', (size_t)(buf + len - line));
			if (read_back(line, (size_t)(nl - line), &view, &why) == -1 ||
			    record_follows(&view, seq, hash) != NULL) {
				printf("# %s: line %ld: %s\n", *paths, count + 1,
				    why ? why : "out of chain");
				record_view_free(&view);
				free(buf);
				return -1;
			}
			seq = view.seq;
			sha256(line, (size_t)(nl - line) + 1, hash);
			record_view_free(&view);
			count++;
		}
		free(buf);
	}
	return count;
}

static long
check_log(void)
{
	const char	*paths[] = { logpath, NULL };

	return check_chain(paths, 1, NULL);
}

static void
test_basics(void)
{
	struct eventlog	*el = eventlog_new(&settings);
	uint64_t	 seq;

	is_int(append(el, "a", "Refer", &seq), APPEND_STORED, "a new event is stored");
	is_int(seq, 1, "as seq 1");
	is_int(append(el, "a", "Refer", &seq), APPEND_DUPLICATE, "the same again is a duplicate");
	is_int(seq, 1, "of seq 1");
	is_int(append(el, "a", "Complete", &seq), APPEND_CONFLICT,
	    "same id, other body: stored as a conflict");
	is_int(seq, 2, "as seq 2");
	is_int(append(el, "a", "Complete", &seq), APPEND_DUPLICATE, "that body again: duplicate");
	is_int(seq, 2, "of seq 2");
	is_int(append(el, "a", "Refer", &seq), APPEND_DUPLICATE, "the first body again: duplicate");
	is_int(seq, 1, "of seq 1");
	is_int(append(el, "b", "Refer", &seq), APPEND_STORED, "another id is stored");
	is_int(seq, 3, "as seq 3");
	is_int(check_log(), 3, "three records, chained");
	eventlog_free(el);

	el = eventlog_new(&settings);
	is_int(append(el, "b", "Refer", &seq), APPEND_DUPLICATE, "after a restart: still a duplicate");
	is_int(seq, 3, "of seq 3");
	is_int(append(el, "c", "Refer", &seq), APPEND_STORED, "and seq goes on");
	is_int(seq, 4, "with 4");
	is_int(check_log(), 4, "four records, chained");
	eventlog_free(el);
}

static int
append_raw(const char *path, const char *text, size_t len)
{
	int	 fd, rc;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0640)) == -1)
		return -1;
	rc = write(fd, text, len) == (ssize_t)len ? 0 : -1;
	close(fd);
	return rc;
}

static void
test_torn_tail(void)
{
	struct eventlog	*el = eventlog_new(&settings);
	char		 torn[320], *kept;
	const char	*tail = "{\"v\":1,\"seq\":5,\"received_at\":\"2026-";
	uint64_t	 seq;
	size_t		 len;

	append_raw(logpath, tail, strlen(tail));
	is_int(append(el, "d", "Refer", &seq), APPEND_STORED, "after a torn tail: stored");
	is_int(seq, 5, "as seq 5, where the torn record would have been");
	is_int(check_log(), 5, "the log holds only whole, chained records");
	snprintf(torn, sizeof(torn), "%s.torn", logpath);
	kept = slurp(torn, &len);
	ok(kept != NULL && len == strlen(tail) + 1 && strncmp(kept, tail, strlen(tail)) == 0,
	    "the torn bytes are kept in <log>.torn");
	ok(said("cut a torn tail of 35 bytes"), "and the operator is told");
	free(kept);

	append_raw(logpath, "\0\0\0\0garbage\n\0\0", 15);
	is_int(append(el, "e", "Refer", &seq), APPEND_STORED, "after garbage lines at the end");
	is_int(seq, 6, "seq goes on with 6");
	is_int(check_log(), 6, "and the garbage is gone from the log");
	eventlog_free(el);
}

/*
 * What a writer that died between write(2) and updating the index leaves behind: record
 * seq for ev, chained to the log's last line.
 */
static void
leave_record(const struct event *ev, uint64_t seq)
{
	struct record_place	 at;
	unsigned char		 hash[SHA256_LEN];
	char			*buf, *last, *line;
	size_t			 len, linelen;

	buf = slurp(logpath, &len);
	for (last = buf + len - 1; last > buf && last[-1] != '\n'; last--)
		;
	sha256(last, (size_t)(buf + len - last), hash);
	memset(&at, 0, sizeof(at));
	at.seq = seq;
	hex_encode(hash, SHA256_LEN, at.prev);
	clock_gettime(CLOCK_REALTIME, &at.received);
	line = record_line(ev, &at, &linelen);
	append_raw(logpath, line, linelen);
	free(line);
	free(buf);
}

static void
test_dead_writer(void)
{
	struct eventlog		*el;
	struct event		 ev;
	uint64_t		 seq;

	make_event(&ev, "Finished Journey", "{\"eventId\":\"ghost\",\"systemDecision\":\"Refer\"}");
	leave_record(&ev, 7);
	el = eventlog_new(&settings);
	is_int(eventlog_append(el, &ev, &seq), APPEND_DUPLICATE,
	    "a record a dead writer left is taken in: its redelivery is a duplicate");
	is_int(seq, 7, "of its seq");
	is_int(append(el, "f", "Refer", &seq), APPEND_STORED, "the next event");
	is_int(seq, 8, "follows it");
	is_int(check_log(), 8, "chain intact");
	ok(!said("rebuil"), "without rebuilding the index");
	event_free(&ev);
	eventlog_free(el);
}

static void
test_rotation(void)
{
	struct eventlog	*el = eventlog_new(&settings), *other = eventlog_new(&settings);
	char		 rotated[320];
	const char	*paths[] = { rotated, logpath, NULL };
	uint64_t	 seq;

	append(other, "g", "Refer", &seq);
	snprintf(rotated, sizeof(rotated), "%s.1", logpath);
	if (rename(logpath, rotated) == -1) {
		ok(0, "rename: %s", strerror(errno));
		return;
	}
	is_int(append(el, "h", "Refer", &seq), APPEND_STORED, "after a rotation: stored");
	is_int(seq, 10, "seq goes on across the rotation");
	is_int(append(other, "i", "Refer", &seq), APPEND_STORED,
	    "a writer that had the old file open");
	is_int(seq, 11, "writes after it");
	is_int(append(el, "g", "Refer", &seq), APPEND_DUPLICATE,
	    "an event in the old file is still a duplicate");
	ok(!said(NULL), "nothing said on stderr about a rotation");
	is_int(check_chain(paths, 1, NULL), 11,
	    "the chain runs through both files: the new one starts from the old one's end");
	eventlog_free(el);
	eventlog_free(other);
}

static void
remove_state(const char *suffix)
{
	char	 path[320];

	snprintf(path, sizeof(path), "%s%s", logpath, suffix);
	unlink(path);
}

static void
test_lost_state(void)
{
	struct eventlog	*el;
	uint64_t	 seq;

	remove_state(".idx");
	el = eventlog_new(&settings);
	is_int(append(el, "h", "Refer", &seq), APPEND_DUPLICATE,
	    "index removed: rebuilt from the log, a stored event is a duplicate");
	is_int(seq, 10, "with its seq");
	is_int(append(el, "j", "Refer", &seq), APPEND_STORED, "a new one is stored");
	is_int(seq, 12, "with the next seq");
	eventlog_free(el);

	remove_state(".shm");
	el = eventlog_new(&settings);
	is_int(append(el, "j", "Refer", &seq), APPEND_DUPLICATE,
	    "state file gone (as after a reboot): index rebuilt, still a duplicate");
	is_int(append(el, "k", "Refer", &seq), APPEND_STORED, "and new events go on");
	is_int(seq, 13, "at seq 13");
	eventlog_free(el);
}

/* Change one byte inside a record (its outcome), so the next line's prev no longer fits. */
static void
test_damage(void)
{
	struct eventlog	*el;
	char		*buf, *at;
	size_t		 len;
	uint64_t	 seq;
	int		 fd;

	buf = slurp(logpath, &len);
	at = strstr(buf, "\"outcome\":\"review\"");
	fd = open(logpath, O_WRONLY);
	if (at == NULL || fd == -1 || pwrite(fd, "x", 1, at - buf + 11) != 1) {
		ok(0, "damaged the log");
		free(buf);
		return;
	}
	close(fd);
	remove_state(".idx");
	el = eventlog_new(&settings);
	is_int(append(el, "l", "Refer", &seq), APPEND_FAILED,
	    "an edited record in the middle: nothing is appended");
	free(buf);
	buf = slurp(logpath, &len);
	ok(buf != NULL && strstr(buf, "\"eventId\":\"l\"") == NULL && len > 0 &&
	    buf[len - 1] == '\n', "and the log is left as it was");
	ok(said("damaged at byte"), "the operator is told where the damage is");
	free(buf);
	eventlog_free(el);
}

static void
test_unwritable(void)
{
	struct eventlog_settings bad = settings;
	struct eventlog	*el;
	char		 path[320];
	uint64_t	 seq;

	snprintf(path, sizeof(path), "%s/missing-dir/events.jsonl", dir);
	bad.path = path;
	el = eventlog_new(&bad);
	is_int(append(el, "m", "Refer", &seq), APPEND_FAILED, "log directory missing: failed");
	ok(said("missing-dir/events.jsonl.shm: open: No such file or directory"),
	    "with one clear line naming the path");
	eventlog_free(el);

	snprintf(path, sizeof(path), "%s/events.jsonl/under-a-file", dir);
	el = eventlog_new(&bad);
	is_int(append(el, "m", "Refer", &seq), APPEND_FAILED, "log path under a file: failed");
	eventlog_free(el);
}

#define CHILDREN	6
#define PER_CHILD	150

static void
fresh_log(void)
{
	char	 path[320];
	int	 i;

	unlink(logpath);
	remove_state(".idx");
	remove_state(".shm");
	for (i = 1; i <= 3; i++) {
		snprintf(path, sizeof(path), "%s.%d", logpath, i);
		unlink(path);
	}
}

/* logrotate's numbered renames: .1 becomes .2, the log becomes .1 */
static int
rotate(void)
{
	char	 one[320], two[320];

	snprintf(one, sizeof(one), "%s.1", logpath);
	snprintf(two, sizeof(two), "%s.2", logpath);
	if (access(one, F_OK) == 0 && rename(one, two) == -1)
		return -1;
	return rename(logpath, one);
}

static void
test_rebuild_across_rotation(void)
{
	struct eventlog	*el;
	char		 one[320], two[320];
	const char	*paths[] = { two, one, logpath, NULL };
	uint64_t	 seq;

	fresh_log();
	snprintf(one, sizeof(one), "%s.1", logpath);
	snprintf(two, sizeof(two), "%s.2", logpath);
	el = eventlog_new(&settings);
	append(el, "r1", "Refer", &seq);
	append(el, "r2", "Refer", &seq);
	rotate();
	append(el, "r3", "Refer", &seq);
	rotate();
	eventlog_free(el);
	remove_state(".idx");
	remove_state(".shm");
	said(NULL);

	el = eventlog_new(&settings);
	is_int(append(el, "r1", "Refer", &seq), APPEND_DUPLICATE,
	    "index and state lost after two rotations: an event two files back is a duplicate");
	is_int(seq, 1, "of its seq");
	is_int(append(el, "r3", "Refer", &seq), APPEND_DUPLICATE,
	    "and one in the last rotated file too");
	is_int(append(el, "r4", "Refer", &seq), APPEND_STORED, "a new one is stored");
	is_int(seq, 4, "with the seq after the rotated files' last, not 1");
	is_int(check_chain(paths, 1, NULL), 4, "the chain runs on through the three files");
	ok(!said(NULL), "quietly");
	eventlog_free(el);
}

static int
copy_file(const char *from, const char *to)
{
	char	*buf;
	size_t	 len;
	int	 rc;

	if ((buf = slurp(from, &len)) == NULL)
		return -1;
	unlink(to);
	rc = append_raw(to, buf, len);
	free(buf);
	return rc;
}

/* What eventlog_reindex's progress callback was last told. */
static uint64_t	 told[3];

static void
tell(void *arg, uint64_t records, uint64_t bytes, uint64_t total)
{
	(void)arg;
	told[0] = records;
	told[1] = bytes;
	told[2] = total;
}

static void
test_index_damage(void)
{
	struct eventlog_progress progress = { tell, NULL };
	struct eventlog	*el;
	struct stat	 st;
	char		 idx[320], old[320], junk[4096];
	uint64_t	 seq;

	fresh_log();
	snprintf(idx, sizeof(idx), "%s.idx", logpath);
	snprintf(old, sizeof(old), "%s.idx.old", logpath);
	el = eventlog_new(&settings);
	append(el, "x1", "Refer", &seq);
	append(el, "x2", "Refer", &seq);
	eventlog_free(el);
	copy_file(idx, old);
	el = eventlog_new(&settings);
	append(el, "x3", "Refer", &seq);
	eventlog_free(el);
	copy_file(old, idx);
	unlink(old);
	said(NULL);

	el = eventlog_new(&settings);
	is_int(append(el, "x3", "Refer", &seq), APPEND_DUPLICATE,
	    "a stale index (behind the log) catches up: the newer event is a duplicate");
	is_int(seq, 3, "of seq 3");
	eventlog_free(el);

	memset(junk, 'X', sizeof(junk));
	unlink(idx);
	append_raw(idx, junk, sizeof(junk));
	el = eventlog_new(&settings);
	is_int(append(el, "x1", "Refer", &seq), APPEND_DUPLICATE,
	    "a damaged index file is replaced and rebuilt: still a duplicate");
	is_int(seq, 1, "of seq 1");
	ok(said("rebuild it from the log"), "and the operator is told");
	seq = 0;
	is_int(eventlog_reindex(el, &seq, &progress), 0, "eventlog_reindex succeeds");
	is_int(seq, 3, "and says where the chain ends");
	ok(stat(logpath, &st) == 0 && told[0] == 3 && told[1] == (uint64_t)st.st_size &&
	    told[2] == told[1], "its progress: 3 records, all the log's bytes of as many");
	is_int(append(el, "x2", "Refer", &seq), APPEND_DUPLICATE, "the rebuilt index knows x2");
	is_int(append(el, "x4", "Refer", &seq), APPEND_STORED, "and a new event follows");
	is_int(seq, 4, "as seq 4");
	eventlog_free(el);
	is_int(check_log(), 4, "chain intact");
}

/*
 * The log shorter than the index knows: truncated in place, or a new file that got the
 * inode number of a rotated one that was compressed away. The chain goes on.
 */
static void
test_truncated_in_place(void)
{
	struct eventlog	*el;
	char		 copy[320], gz[320];
	const char	*paths[] = { copy, logpath, NULL };
	uint64_t	 seq;

	fresh_log();
	snprintf(copy, sizeof(copy), "%s.copy", dir);
	el = eventlog_new(&settings);
	append(el, "t1", "Refer", &seq);
	append(el, "t2", "Refer", &seq);
	eventlog_free(el);
	copy_file(logpath, copy);
	if (truncate(logpath, 0) == -1) {
		ok(0, "truncate: %s", strerror(errno));
		return;
	}
	said(NULL);
	el = eventlog_new(&settings);
	is_int(append(el, "t3", "Refer", &seq), APPEND_STORED, "the log truncated in place");
	is_int(seq, 3, "seq goes on from the head, not from 1");
	ok(said("taken as a new file"), "and the operator is told");
	is_int(check_chain(paths, 1, NULL), 3, "the chain runs from the old content into the new");
	is_int(append(el, "t1", "Refer", &seq), APPEND_DUPLICATE,
	    "ids of the old content are still known");
	eventlog_free(el);
	unlink(copy);

	/* After a reboot, with the rotated file compressed and the log empty: refuse. */
	snprintf(gz, sizeof(gz), "%s.1.gz", logpath);
	rename(logpath, gz);
	remove_state(".idx");
	remove_state(".shm");
	el = eventlog_new(&settings);
	is_int(append(el, "t4", "Refer", &seq), APPEND_FAILED,
	    "index lost, log empty, the rotated file compressed: refused rather than seq 1");
	ok(said("cannot find where the chain ends"), "saying why and what to do");
	eventlog_free(el);
	unlink(gz);
}

static void
test_dedup_window(void)
{
	struct eventlog_settings short_window = settings;
	struct eventlog	*el;
	struct timespec	 pause = { 1, 200 * 1000000L };
	uint64_t	 seq;

	fresh_log();
	short_window.dedup_window_ms = 1000;
	el = eventlog_new(&short_window);
	append(el, "w1", "Refer", &seq);
	is_int(append(el, "w1", "Refer", &seq), APPEND_DUPLICATE,
	    "within dedup_window: a duplicate");
	nanosleep(&pause, NULL);
	append(el, "w2", "Refer", &seq);
	is_int(append(el, "w1", "Refer", &seq), APPEND_STORED,
	    "after dedup_window the id is forgotten: stored again");
	is_int(seq, 3, "as a new record");
	is_int(append(el, "w2", "Refer", &seq), APPEND_DUPLICATE,
	    "while a younger id is still known");
	eventlog_free(el);

	nanosleep(&pause, NULL);
	remove_state(".idx");
	el = eventlog_new(&short_window);
	is_int(append(el, "w2", "Refer", &seq), APPEND_STORED,
	    "a rebuilt index holds no ids older than dedup_window");
	is_int(seq, 4, "and the chain goes on");
	is_int(append(el, "w2", "Refer", &seq), APPEND_DUPLICATE, "new ids are kept again");
	eventlog_free(el);
	is_int(check_log(), 4, "chain intact");
}

/*
 * A record a dead writer left at the end of a file that was then rotated away, before any
 * process had opened the new file: the next writer (a new process) takes it in from the
 * rotated file.
 */
static void
test_dead_writer_then_rotation(void)
{
	struct eventlog	*el;
	struct event	 ev;
	char		 one[320];
	const char	*paths[] = { one, logpath, NULL };
	uint64_t	 seq;

	fresh_log();
	el = eventlog_new(&settings);
	append(el, "r1", "Refer", &seq);
	append(el, "r2", "Refer", &seq);
	eventlog_free(el);
	make_event(&ev, "Finished Journey", "{\"eventId\":\"left\",\"systemDecision\":\"Refer\"}");
	leave_record(&ev, 3);
	snprintf(one, sizeof(one), "%s.1", logpath);
	if (rotate() == -1) {
		ok(0, "rotate: %s", strerror(errno));
		event_free(&ev);
		return;
	}
	el = eventlog_new(&settings);
	is_int(append(el, "r4", "Refer", &seq), APPEND_STORED,
	    "a record left unindexed, then a rotation: the next event is stored");
	is_int(seq, 4, "  after the left record (seq 3), taken in from the rotated file");
	is_int(eventlog_append(el, &ev, &seq), APPEND_DUPLICATE,
	    "  the left record's redelivery is a duplicate");
	is_int(seq, 3, "  of seq 3");
	is_int(check_chain(paths, 1, NULL), 4, "  the chain runs from the rotated file on");
	event_free(&ev);
	eventlog_free(el);
}

static void
test_many_processes(void)
{
	struct eventlog	*el;
	pid_t		 pids[CHILDREN];
	char		 id[64];
	uint64_t	 seq;
	int		 i, n, status, failed = 0;

	fresh_log();
	for (i = 0; i < CHILDREN; i++) {
		if ((pids[i] = fork()) == 0) {
			el = eventlog_new(&settings);
			for (n = 0; n < PER_CHILD; n++) {
				snprintf(id, sizeof(id), "p%d-%d", i, n);
				if (append(el, id, "Refer", &seq) != APPEND_STORED)
					_exit(1);
				/* Every third one twice: the second must be a duplicate. */
				if (n % 3 == 0 && append(el, id, "Refer", &seq) != APPEND_DUPLICATE)
					_exit(2);
			}
			eventlog_free(el);
			_exit(0);
		}
	}
	for (i = 0; i < CHILDREN; i++)
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed++;
	is_int(failed, 0, "%d processes appending at once all succeed", CHILDREN);
	is_int(check_log(), CHILDREN * PER_CHILD, "every record once, seq without gap, chain intact");
}

static void
cleanup(void)
{
	char	 cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (tap_failed == 0 && system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	else if (tap_failed != 0)
		printf("# files kept in %s\n", dir);
}

/*
 * What is at <log>.torn and <log>.idx must be a regular file of ours (ownfile.h): a FIFO
 * does not block the append (an alarm ends the test if it does), a link is not followed.
 */
static void
test_foreign_files(void)
{
	struct eventlog	*el = eventlog_new(&settings);
	struct stat	 st;
	char		 torn[320], kept[330], idx[320], target[320];
	const char	*tail = "{\"v\":1,\"seq\":";
	uint64_t	 seq, last;

	is_int(append(el, "f1", "Refer", &last), APPEND_STORED, "another record");
	snprintf(torn, sizeof(torn), "%s.torn", logpath);
	snprintf(kept, sizeof(kept), "%s.kept", torn);
	rename(torn, kept);
	if (mkfifo(torn, 0600) == -1)
		printf("# mkfifo: %s\n", strerror(errno));
	append_raw(logpath, tail, strlen(tail));
	alarm(20);
	is_int(append(el, "f2", "Refer", &seq), APPEND_FAILED,
	    "a torn tail and a FIFO at <log>.torn: failed, without blocking");
	alarm(0);
	ok(said(".torn: not a regular file; the torn tail stays in the log"), "  and said why");
	unlink(torn);
	is_int(append(el, "f2", "Refer", &seq), APPEND_STORED, "  the FIFO gone: stored");
	is_int(seq, last + 1, "  as the next seq");

	snprintf(idx, sizeof(idx), "%s.idx", logpath);
	snprintf(target, sizeof(target), "%s/idx-target", dir);
	close(open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600));
	unlink(idx);
	if (symlink(target, idx) == -1)
		printf("# symlink: %s\n", strerror(errno));
	is_int(append(el, "f3", "Refer", &seq), APPEND_FAILED,
	    "a symbolic link at <log>.idx: failed");
	ok(said(".idx: a symbolic link, not followed"), "  and said why");
	ok(stat(target, &st) == 0 && st.st_size == 0, "  LMDB wrote nothing to its target");
	ok(lstat(idx, &st) == 0 && S_ISLNK(st.st_mode), "  the link is left in place");
	unlink(idx);
	is_int(append(el, "f3", "Refer", &seq), APPEND_STORED, "  the link gone: stored");
	is_int(seq, last + 2, "  as the next seq (the index rebuilt from the log)");
	unlink(target);
	eventlog_free(el);
}

int
main(void)
{
	if (setup() == -1) {
		ok(0, "set up a test directory");
		return done_testing();
	}
	test_basics();
	test_torn_tail();
	test_dead_writer();
	test_rotation();
	test_lost_state();
	test_damage();
	test_unwritable();
	test_rebuild_across_rotation();
	test_index_damage();
	test_truncated_in_place();
	test_dedup_window();
	test_dead_writer_then_rotation();
	test_many_processes();
	test_foreign_files();
	cleanup();
	return done_testing();
}
