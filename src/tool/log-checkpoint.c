/* SPDX-License-Identifier: ISC */
/*
 * log-checkpoint.c: `idwise-log checkpoint`: the log's Merkle tree signed as a C2SP
 * checkpoint, never one inconsistent with the last one this key's state says it signed:
 * the files must still hold that tree (its root, when they start at seq 1; its last
 * record, when they start later and the tree goes on from its right edge) and no fewer
 * records.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint-state.h"
#include "idwise-log.h"
#include "log-tree.h"
#include "note.h"
#include "rotation.h"
#include "tlog.h"
#include "util.h"

#define WHY_LEN		256
#define KEY_FILE_MAX	4096

struct ckpt_args {
	const char	*key;
	const char	*origin;
	const char	*state;		/* NULL: KEY.state */
	const char	*out;		/* NULL: standard output */
	bool		 rotated;
};

/* --- the key and the files --------------------------------------------------------------- */

/* The signer key from its file, which nobody else may read. */
static int
read_signer(const char *path, struct note_key *k)
{
	struct stat	 st;
	char		*text, why[WHY_LEN];
	size_t		 len;
	int		 rc;

	if (stat(path, &st) == -1) {
		msg_errno("%s", path);
		return EXIT_UNREADABLE;
	}
	if ((st.st_mode & 077) != 0) {
		msg("%s: mode %04o lets others read the signing key: chmod 600 it (and make a "
		    "new key if others did read it)", path, (unsigned)(st.st_mode & 07777));
		return EXIT_UNREADABLE;
	}
	if (tlog_read_file(path, KEY_FILE_MAX, &text, &len) == -1)
		return EXIT_UNREADABLE;
	rc = note_key_parse(text, len, true, k, why, sizeof(why));
	memset(text, 0, len);
	free(text);
	if (rc == -1) {
		msg("%s: %s", path, why);
		return EXIT_UNREADABLE;
	}
	return EX_OK;
}

/* --rotated: the readable rotated files before the log, oldest first, then the log. */
static char **
rotated_files(const char *log, int *nfiles)
{
	struct log_ends	 cur, *chain = NULL;
	size_t		 n = 0, i;
	bool		 have_cur = rotation_ends(log, &cur) == 0;
	char		**files;

	if (rotation_chain(log, have_cur ? &cur : NULL, INT64_MIN, &chain, &n) == -1) {
		msg_errno("%s: the rotated files", log);
		return NULL;
	}
	free(cur.path);
	if ((files = calloc(n + 2, sizeof(*files))) != NULL) {
		for (i = 0; i < n; i++) {
			files[i] = chain[i].path;
			chain[i].path = NULL;
		}
		files[n] = (char *)log;
	} else
		msg("out of memory");
	rotation_free(chain, n);
	*nfiles = (int)n + 1;
	return files;
}

static void
free_rotated(char **files, int nfiles)
{
	int	 i;

	for (i = 0; files != NULL && i < nfiles - 1; i++)
		free(files[i]);
	free(files);
}

/* --- signing ----------------------------------------------------------------------------- */

/* Does the tree read hold the one signed last? EX_OK, or EXIT_DAMAGED once said why. */
static int
holds_last(const struct ckpt_state *st, const struct tree_got *got)
{
	merkle_hash	 last_root;
	uint64_t	 last = st->tree.edge.size;

	if (!st->present)
		return EX_OK;
	if (got->edge.size < last) {
		msg("the files hold %" PRIu64 " records, fewer than the %" PRIu64 " of the last "
		    "checkpoint: records were cut off; not signing", got->edge.size, last);
		return EXIT_DAMAGED;
	}
	merkle_edge_root(&st->tree.edge, last_root);
	if (got->first_seq == 1 && memcmp(got->roots[0], last_root, MERKLE_HASH_LEN) != 0) {
		msg("the first %" PRIu64 " records no longer hash to the root of the last "
		    "checkpoint: the log was changed; not signing", last);
		return EXIT_DAMAGED;
	}
	return EX_OK;
}

/* The checkpoint's note into out; 0, or -1 once said why. */
static int
sign_tree(const struct note_key *k, const char *origin, const struct merkle_edge *edge,
    char *out, size_t size, size_t *len)
{
	struct checkpoint	 c;
	char			 text[NOTE_NAME_MAX + 128], why[WHY_LEN];
	int			 n;

	snprintf(c.origin, sizeof(c.origin), "%s", origin);
	c.size = edge->size;
	merkle_edge_root(edge, c.root);
	if ((n = checkpoint_text(&c, text, sizeof(text))) == -1 ||
	    note_sign(k, text, (size_t)n, out, size, len, why, sizeof(why)) == -1) {
		msg("cannot sign the checkpoint: %s", n == -1 ? "too long" : why);
		return -1;
	}
	return 0;
}

/* Remember what is signed, then hand it out: a checkpoint is never out unremembered. */
static int
record_and_write(const struct ckpt_args *a, const char *state_path, struct ckpt_state *st,
    const struct tree_got *got, const char *note, size_t len)
{
	if (!st->present || got->edge.size > st->tree.edge.size)
		memcpy(st->tree.last_leaf, got->last_leaf, MERKLE_HASH_LEN);
	st->tree.edge = got->edge;
	st->present = true;
	if (ckpt_state_write(state_path, st) == -1)
		return EXIT_UNREADABLE;
	if (a->out == NULL) {
		fwrite(note, 1, len, stdout);
		return EX_OK;
	}
	if (tlog_write_file(a->out, note, len, 0644) == -1)
		return EXIT_UNREADABLE;
	printf("%s: checkpoint of %" PRIu64 " records of %s\n", a->out, got->edge.size,
	    st->origin);
	return EX_OK;
}

static int
checkpoint(const struct ckpt_args *a, const struct note_key *k, const char *state_path,
    char **files, int nfiles)
{
	struct ckpt_state	 st;
	struct tree_want	 want;
	struct tree_got		 got;
	char			 note[NOTE_MAX];
	size_t			 len;
	int			 rc;

	if ((rc = ckpt_state_read(state_path, &st)) != EX_OK)
		return rc;
	if (st.present && strcmp(st.origin, a->origin != NULL ? a->origin : k->name) != 0) {
		msg("%s: the state of the checkpoints of %s, not of %s: give each origin a state "
		    "of its own (--state)", state_path, st.origin, a->origin != NULL ? a->origin :
		    k->name);
		return EX_USAGE;
	}
	snprintf(st.origin, sizeof(st.origin), "%s", a->origin != NULL ? a->origin : k->name);
	memset(&want, 0, sizeof(want));
	want.what = "checkpoint";
	want.start = st.present ? &st.tree : NULL;
	want.sizes[0] = st.tree.edge.size;
	want.nsizes = st.present ? 1 : 0;
	if ((rc = tree_read(files, nfiles, &want, &got)) != EX_OK)
		return rc;
	if ((rc = holds_last(&st, &got)) == EX_OK) {
		if (sign_tree(k, st.origin, &got.edge, note, sizeof(note), &len) == -1)
			rc = EXIT_UNREADABLE;
		else
			rc = record_and_write(a, state_path, &st, &got, note, len);
	}
	tree_got_free(&got);
	return rc;
}

/* --- the command ------------------------------------------------------------------------- */

static const struct option checkpoint_options[] = {
	TLOG_KEY_LONG_OPTIONS,
	{ "state",	required_argument,	NULL, 's' },
	{ "out",	required_argument,	NULL, 'O' },
	{ "rotated",	no_argument,		NULL, 'r' },
	{ NULL,		0,			NULL, 0 }
};

static int
checkpoint_args(int argc, char **argv, struct ckpt_args *a)
{
	int	 ch;

	memset(a, 0, sizeof(*a));
	while ((ch = getopt_long(argc, argv, "", checkpoint_options, NULL)) != -1) {
		switch (ch) {
		case 'k': a->key = optarg; break;
		case 'o': a->origin = optarg; break;
		case 's': a->state = optarg; break;
		case 'O': a->out = optarg; break;
		case 'r': a->rotated = true; break;
		default: return -1;
		}
	}
	if (a->origin != NULL && !note_name_ok(a->origin)) {
		msg("--origin: 1 to %d printable characters, no space or '+': %s", NOTE_NAME_MAX,
		    a->origin);
		return -1;
	}
	if (a->key == NULL || optind == argc || (a->rotated && optind != argc - 1))
		return -1;
	return 0;
}

int
cmd_checkpoint(int argc, char **argv)
{
	struct ckpt_args	 a;
	struct note_key		 k;
	char			*state = NULL, **files = argv + optind;
	int			 rc, lock = -1, nfiles;

	if (checkpoint_args(argc, argv, &a) == -1)
		return cmd_usage(argv[0]);
	files = argv + optind;
	nfiles = argc - optind;
	if ((rc = read_signer(a.key, &k)) != EX_OK)
		return rc;
	if (a.state == NULL && asprintf(&state, "%s.state", a.key) == -1) {
		msg("out of memory");
		note_key_free(&k);
		return EXIT_UNREADABLE;
	}
	if (a.rotated && (files = rotated_files(files[0], &nfiles)) == NULL)
		rc = EXIT_UNREADABLE;
	else if ((rc = ckpt_state_lock(a.state != NULL ? a.state : state, &lock)) == EX_OK)
		rc = checkpoint(&a, &k, a.state != NULL ? a.state : state, files, nfiles);
	if (lock != -1)
		close(lock);
	if (a.rotated)
		free_rotated(files, nfiles);
	free(state);
	note_key_free(&k);
	return rc;
}
