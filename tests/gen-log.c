/* SPDX-License-Identifier: ISC */
/*
 * gen-log.c: write chained event log records to stdout, for the integration tests: records
 * that continue an existing log's chain, for ids and at ages the test chooses, so that it
 * can redeliver them (tests/mklog makes a whole log of every kind of event instead).
 *
 *	gen-log [-c LOG] [-a AGE] [-d STEP_MS] [-i PREFIX] [-k FIRST] COUNT
 *
 * Each record is what idwise-fcgi stores for the delivery
 *	{"event":"Finished Step","body":{"eventId":"PREFIX-K","journeyId":"j-gen","stepId":"1"}}
 * (env "test", remote_addr "127.0.0.1"), built with record_line(), so a test can redeliver
 * the same body and expect a duplicate. K runs from FIRST (default 1). The first record is
 * received AGE seconds ago (default 0), each next one STEP_MS milliseconds later (default
 * 0). With -c the chain goes on from the last line of LOG (its seq and hash); without it,
 * from the start (seq 1, prev 64 zeros). Exit 0, 64 on bad arguments, 1 on other errors.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "idwise.h"
#include "log-check.h"
#include "logformat.h"
#include "record.h"
#include "util.h"

#define BODY_FORMAT \
	"{\"event\":\"Finished Step\",\"body\":{\"eventId\":\"%s-%llu\"," \
	"\"journeyId\":\"j-gen\",\"stepId\":\"1\"}}"

struct chain {
	unsigned long long	 seq;		/* of the last record written */
	unsigned char		 hash[SHA256_LEN];
};

static void
usage(void)
{
	fprintf(stderr, "usage: gen-log [-c LOG] [-a AGE] [-d STEP_MS] [-i PREFIX] "
	    "[-k FIRST] COUNT\n");
	exit(EX_USAGE);
}

static int
number(const char *text, unsigned long long *out)
{
	char	*end;

	errno = 0;
	*out = strtoull(text, &end, 10);
	return errno != 0 || end == text || *end != '\0' || text[0] == '-' ? -1 : 0;
}

/* The chain's head from the last line of the file at path. */
static int
chain_from(const char *path, struct chain *ch)
{
	struct log_reader	*reader = NULL;
	struct log_record	 rec;
	struct log_last		 last = { 0 };
	struct stat		 st;
	char			 why[160];
	int			 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &st) == -1) {
		msg_errno("%s", path);
		return -1;
	}
	if (logformat_last_line(fd, st.st_size, &last) != LINE_OK || last.torn != 0)
		msg("%s: empty, unreadable, or the last line is not complete", path);
	else if ((reader = log_reader_new()) == NULL)
		msg("out of memory");
	else if (log_record_read(reader, last.text, last.len, &rec, why, sizeof(why)) == -1)
		msg("%s: last line: %s", path, why);
	else {
		ch->seq = rec.view.seq;
		sha256(last.text, last.len + 1, ch->hash);	/* with its newline */
		log_record_free(&rec);
		rc = 0;
	}
	log_reader_free(reader);
	free(last.buf);
	close(fd);
	return rc;
}

/* One record for eventId prefix-k at time at; the chain moves on to it. */
static int
emit(struct chain *ch, const char *prefix, unsigned long long k, const struct timespec *at)
{
	struct record_place	 place;
	struct event		 ev;
	json_object		*root;
	char			 raw[512], *line;
	size_t			 len;
	int			 rawlen;

	rawlen = snprintf(raw, sizeof(raw), BODY_FORMAT, prefix, k);
	if (rawlen < 0 || (size_t)rawlen >= sizeof(raw) ||
	    (root = json_tokener_parse(raw)) == NULL)
		return -1;
	if (event_classify(&ev, root, (unsigned char *)raw, (size_t)rawlen, "test",
	    "127.0.0.1") == -1) {
		json_object_put(root);
		return -1;
	}
	json_object_put(root);
	memset(&place, 0, sizeof(place));
	place.seq = ch->seq + 1;
	place.received = *at;
	hex_encode(ch->hash, SHA256_LEN, place.prev);
	line = record_line(&ev, &place, &len);
	event_free(&ev);
	if (line == NULL)
		return -1;
	if (fwrite(line, 1, len, stdout) != len) {
		free(line);
		return -1;
	}
	sha256(line, len, ch->hash);
	ch->seq = place.seq;
	free(line);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct chain		 ch;
	struct timespec		 at;
	const char		*logpath = NULL, *prefix = "gen";
	unsigned long long	 age = 0, step = 0, first = 1, count, i;
	int			 c;

	set_progname(argv[0]);
	while ((c = getopt(argc, argv, "a:c:d:i:k:")) != -1) {
		switch (c) {
		case 'a':
			if (number(optarg, &age) == -1)
				usage();
			break;
		case 'c':
			logpath = optarg;
			break;
		case 'd':
			if (number(optarg, &step) == -1)
				usage();
			break;
		case 'i':
			if (strlen(optarg) > 128)
				usage();
			prefix = optarg;
			break;
		case 'k':
			if (number(optarg, &first) == -1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || number(argv[optind], &count) == -1)
		usage();
	memset(&ch, 0, sizeof(ch));
	if (logpath != NULL && chain_from(logpath, &ch) == -1)
		return 1;
	clock_gettime(CLOCK_REALTIME, &at);
	at.tv_sec -= (time_t)age;
	for (i = 0; i < count; i++) {
		if (emit(&ch, prefix, first + i, &at) == -1) {
			msg("record %llu: out of memory or write error", ch.seq + 1);
			return 1;
		}
		at.tv_sec += (time_t)(step / 1000);
		at.tv_nsec += (long)(step % 1000) * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
	}
	if (fflush(stdout) == EOF) {
		msg("stdout: %s", strerror(errno));
		return 1;
	}
	return 0;
}
