/* SPDX-License-Identifier: ISC */
/* ship-checkpoint.c: the checkpoint file, published to the stream when it changes. */
#include "autoconf.h"

#include <sys/stat.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ship-checkpoint.h"
#include "tlog.h"
#include "util.h"

#define CHECKPOINT_MAX	(64 * 1024)	/* a note is a few hundred bytes */

struct ship_checkpoint {
	const char	*path;
	struct stat	 seen;		/* the file as last read */
	bool		 have_seen;
	unsigned char	 published[SHA256_LEN];
	bool		 have_published;
	bool		 failing;	/* said, not again until it works */
};

struct ship_checkpoint *
ship_checkpoint_new(const char *path)
{
	struct ship_checkpoint	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->path = path;
	return c;
}

void
ship_checkpoint_free(struct ship_checkpoint *c)
{
	free(c);
}

/* The same file, unchanged, as the one last read? */
static bool
unchanged(const struct ship_checkpoint *c, const struct stat *st)
{
	return c->have_seen && st->st_dev == c->seen.st_dev && st->st_ino == c->seen.st_ino &&
	    st->st_size == c->seen.st_size && st->st_mtim.tv_sec == c->seen.st_mtim.tv_sec &&
	    st->st_mtim.tv_nsec == c->seen.st_mtim.tv_nsec;
}

static void
failed(struct ship_checkpoint *c, const char *why)
{
	if (!c->failing)
		msg("%s: not published to the stream (%s); trying again", c->path, why);
	c->failing = true;
}

void
ship_checkpoint_publish(struct ship_checkpoint *c, struct js_link *link, const char *stream,
    const char *prefix)
{
	unsigned char	 md[SHA256_LEN];
	struct stat	 st;
	char		*note, why[256];
	size_t		 len;

	if (stat(c->path, &st) == -1 || unchanged(c, &st))
		return;		/* none yet (the timer has not run), or nothing new */
	if (tlog_read_file(c->path, CHECKPOINT_MAX, &note, &len) == -1)
		return;		/* said; the next change is read again */
	c->seen = st;
	c->have_seen = true;
	sha256(note, len, md);
	if (len == 0 || (c->have_published && memcmp(md, c->published, SHA256_LEN) == 0)) {
		free(note);
		return;
	}
	if (js_publish_checkpoint(link, stream, prefix, note, len, why, sizeof(why)) == -1) {
		c->have_seen = false;	/* read again next time */
		failed(c, why);
	} else {
		memcpy(c->published, md, SHA256_LEN);
		c->have_published = true;
		if (c->failing)
			msg("%s: published to the stream again", c->path);
		c->failing = false;
	}
	free(note);
}
