/* SPDX-License-Identifier: ISC */
/* dedup.c: the LMDB index of stored ids and of the chain head. */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "dedup-internal.h"
#include "dedup.h"
#include "ownfile.h"

#define INDEX_FORMAT	2

/* ids: sha256(id) -> (body digest, seq big-endian), several values per id. */
struct id_value {
	unsigned char	 digest[SHA256_LEN];
	unsigned char	 seq[8];
};

/* seqs: seq big-endian -> what finds its ids entry again, and when it came (for expiry). */
struct seq_value {
	unsigned char	 idkey[SHA256_LEN];
	unsigned char	 digest[SHA256_LEN];
	int64_t		 received_ms;
};

struct head_value {
	uint32_t	 format;
	struct log_head	 head;
};

/* --- errors and big-endian numbers -------------------------------------------------- */

static int
set_error(struct dedup *dd, int rc)
{
	dd->last_rc = rc;
	return rc == 0 ? 0 : -1;
}

const char *
dedup_error(const struct dedup *dd)
{
	return mdb_strerror(dd->last_rc);
}

static void
put_be64(unsigned char out[8], uint64_t v)
{
	int	 i;

	for (i = 7; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)(v & 0xff);
}

static uint64_t
get_be64(const unsigned char in[8])
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

/* --- the file: opening, closing, removing ------------------------------------------- */

/* Is the file LMDB has open the one st is of? */
static bool
env_is(struct dedup *dd, const struct stat *st)
{
	struct stat	 now;
	mdb_filehandle_t fd;

	return mdb_env_get_fd(dd->env, &fd) == 0 && fstat(fd, &now) == 0 &&
	    now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

/*
 * No lock file (MDB_NOLOCK): the append lock serializes every use. No sync (MDB_NOSYNC):
 * the index is rebuilt from the log after a reboot (shm.h), so it never has to survive one.
 * Where it is safe (dedup_mapping_safe()) it is written through the mapping
 * (MDB_WRITEMAP): a commit then makes no system call. Either way LMDB writes a
 * transaction's pages where no page of the last commit is, then its meta page: a process
 * that dies in the middle leaves the last commit whole, in the page cache.
 * LMDB opens the path itself, following a symbolic link: so the file is opened here first
 * (ownfile.h), and LMDB is given /proc/self/fd/N, which names that very file whatever
 * the path holds by then; the file it ends up with is checked to be that one.
 */
struct dedup *
dedup_open(const char *path, bool *refused, char *err, size_t errlen)
{
	struct dedup	*dd;
	struct stat	 st;
	char		 why[OWNFILE_WHY_LEN], by_fd[32];
	int		 fd, rc;

	*refused = false;
	if ((fd = ownfile_open(path, O_RDWR | O_CREAT, 0600, &st, why, sizeof(why))) == -1) {
		*refused = true;
		snprintf(err, errlen, "%s: %s", path, why);
		return NULL;
	}
	if ((dd = calloc(1, sizeof(*dd))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	dd->dev = (uint64_t)st.st_dev;
	dd->ino = (uint64_t)st.st_ino;
	dd->can_map = dedup_mapping_safe(fd);
	snprintf(by_fd, sizeof(by_fd), "/proc/self/fd/%d", fd);
	rc = dedup_env_open(dd, by_fd, st.st_size);
	close(fd);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		dedup_close(dd);
		return NULL;
	}
	if (!env_is(dd, &st)) {
		*refused = true;
		snprintf(err, errlen, "%s: replaced while it was being opened", path);
		dedup_close(dd);
		return NULL;
	}
	return dd;
}

void
dedup_identity(const struct dedup *dd, uint64_t *dev, uint64_t *ino)
{
	*dev = dd->dev;
	*ino = dd->ino;
}

void
dedup_close(struct dedup *dd)
{
	if (dd == NULL)
		return;
	if (dd->txn != NULL)
		mdb_txn_abort(dd->txn);
	if (dd->env != NULL)
		mdb_env_close(dd->env);
	free(dd);
}

int
dedup_remove(const char *path)
{
	struct stat	 st;
	char		 why[OWNFILE_WHY_LEN];

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!ownfile_check(path, &st, why, sizeof(why)))
		return 0;
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

/* --- transactions ------------------------------------------------------------------- */

int
dedup_begin(struct dedup *dd)
{
	int	 rc;

	dd->txn = NULL;
	if ((rc = dedup_env_ready(dd)) != 0)
		return set_error(dd, rc);
	rc = mdb_txn_begin(dd->env, NULL, 0, &dd->txn);
	if (rc == MDB_MAP_RESIZED && !dd->mapped && mdb_env_set_mapsize(dd->env, 0) == 0)
		rc = mdb_txn_begin(dd->env, NULL, 0, &dd->txn);
	if (rc != 0)
		dd->txn = NULL;
	return set_error(dd, rc);
}

int
dedup_commit(struct dedup *dd)
{
	int	 rc = mdb_txn_commit(dd->txn);

	dd->txn = NULL;
	return set_error(dd, rc);
}

void
dedup_abort(struct dedup *dd)
{
	if (dd->txn != NULL)
		mdb_txn_abort(dd->txn);
	dd->txn = NULL;
}

/* --- the chain head ----------------------------------------------------------------- */

int
dedup_get_head(struct dedup *dd, struct log_head *head)
{
	MDB_val			 key = { 4, "head" }, data;
	struct head_value	 hv;
	int			 rc;

	rc = mdb_get(dd->txn, dd->meta, &key, &data);
	if (rc == MDB_NOTFOUND) {
		memset(head, 0, sizeof(*head));
		return 1;
	}
	if (rc != 0)
		return set_error(dd, rc);
	if (data.mv_size != sizeof(hv))
		return set_error(dd, MDB_CORRUPTED);
	memcpy(&hv, data.mv_data, sizeof(hv));
	if (hv.format != INDEX_FORMAT)
		return set_error(dd, MDB_VERSION_MISMATCH);
	*head = hv.head;
	return 0;
}

int
dedup_put_head(struct dedup *dd, const struct log_head *head)
{
	struct head_value	 hv;
	MDB_val			 key = { 4, "head" }, data = { sizeof(hv), &hv };

	memset(&hv, 0, sizeof(hv));
	hv.format = INDEX_FORMAT;
	hv.head = *head;
	return set_error(dd, mdb_put(dd->txn, dd->meta, &key, &data, 0));
}

/* --- ids ---------------------------------------------------------------------------- */

/* The key of an id; the last one is kept, for dedup_add() after dedup_find() of the same. */
static void
id_key(struct dedup *dd, const char *id, size_t idlen, unsigned char out[SHA256_LEN])
{
	if (dd->key_of_len == idlen && idlen != 0 && memcmp(dd->key_of, id, idlen) == 0) {
		memcpy(out, dd->key, SHA256_LEN);
		return;
	}
	sha256(id, idlen, out);
	dd->key_of_len = 0;
	if (idlen > sizeof(dd->key_of))
		return;
	memcpy(dd->key_of, id, idlen);
	memcpy(dd->key, out, SHA256_LEN);
	dd->key_of_len = idlen;
}

enum dedup_match
dedup_find(struct dedup *dd, const char *id, size_t idlen,
    const unsigned char digest[SHA256_LEN], uint64_t *seq)
{
	unsigned char		 idkey[SHA256_LEN];
	MDB_val			 key = { SHA256_LEN, idkey }, data;
	MDB_cursor		*cur;
	struct id_value		 v;
	enum dedup_match	 match = DEDUP_NEW;
	int			 rc;

	id_key(dd, id, idlen, idkey);
	if ((rc = mdb_cursor_open(dd->txn, dd->ids, &cur)) != 0) {
		set_error(dd, rc);
		return DEDUP_ERROR;
	}
	for (rc = mdb_cursor_get(cur, &key, &data, MDB_SET); rc == 0;
	    rc = mdb_cursor_get(cur, &key, &data, MDB_NEXT_DUP)) {
		if (data.mv_size != sizeof(v)) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(&v, data.mv_data, sizeof(v));
		match = DEDUP_CONFLICT;
		if (memcmp(v.digest, digest, SHA256_LEN) == 0) {
			*seq = get_be64(v.seq);
			match = DEDUP_SAME;
			break;
		}
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		set_error(dd, rc);
		return DEDUP_ERROR;
	}
	return match;
}

int
dedup_add(struct dedup *dd, const char *id, size_t idlen,
    const unsigned char digest[SHA256_LEN], uint64_t seq, int64_t received_ms)
{
	struct id_value		 iv;
	struct seq_value	 sv;
	unsigned char		 seqkey[8];
	MDB_val			 key, data;
	int			 rc;

	memset(&sv, 0, sizeof(sv));
	id_key(dd, id, idlen, sv.idkey);
	memcpy(sv.digest, digest, SHA256_LEN);
	sv.received_ms = received_ms;
	memcpy(iv.digest, digest, SHA256_LEN);
	put_be64(iv.seq, seq);
	key.mv_size = SHA256_LEN;
	key.mv_data = sv.idkey;
	data.mv_size = sizeof(iv);
	data.mv_data = &iv;
	if ((rc = mdb_put(dd->txn, dd->ids, &key, &data, 0)) != 0)
		return set_error(dd, rc);
	put_be64(seqkey, seq);
	key.mv_size = sizeof(seqkey);
	key.mv_data = seqkey;
	data.mv_size = sizeof(sv);
	data.mv_data = &sv;
	return set_error(dd, mdb_put(dd->txn, dd->seqs, &key, &data, MDB_APPEND));
}

/* --- forgetting: expiry and clearing ------------------------------------------------ */

/* Delete the oldest seq entry and its ids entry. */
static int
forget(struct dedup *dd, MDB_cursor *seqs, const MDB_val *seqkey, const struct seq_value *sv)
{
	struct id_value	 iv;
	MDB_val		 key = { SHA256_LEN, (void *)sv->idkey }, data = { sizeof(iv), &iv };
	int		 rc;

	memcpy(iv.digest, sv->digest, SHA256_LEN);
	memcpy(iv.seq, seqkey->mv_data, sizeof(iv.seq));
	rc = mdb_del(dd->txn, dd->ids, &key, &data);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	return mdb_cursor_del(seqs, 0);
}

int
dedup_expire(struct dedup *dd, int64_t before_ms, int max, int *forgotten)
{
	MDB_cursor		*cur;
	MDB_val			 key, data;
	struct seq_value	 sv;
	int			 rc;

	*forgotten = 0;
	if ((rc = mdb_cursor_open(dd->txn, dd->seqs, &cur)) != 0)
		return set_error(dd, rc);
	while (*forgotten < max && (rc = mdb_cursor_get(cur, &key, &data, MDB_FIRST)) == 0) {
		if (data.mv_size != sizeof(sv) || key.mv_size != 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(&sv, data.mv_data, sizeof(sv));
		if (sv.received_ms >= before_ms)
			break;
		if ((rc = forget(dd, cur, &key, &sv)) != 0)
			break;
		(*forgotten)++;
	}
	mdb_cursor_close(cur);
	return set_error(dd, rc == MDB_NOTFOUND ? 0 : rc);
}

/*
 * A rebuild follows: its pages are written with pwrite (a full disk is an error there),
 * in a transaction begun anew; nothing of the one open is kept, as nothing would be.
 */
static int
begin_bulk(struct dedup *dd)
{
	int	 rc;

	if (!dd->mapped)
		return 0;
	mdb_txn_abort(dd->txn);
	dd->txn = NULL;
	if ((rc = dedup_env_switch(dd, true)) != 0)
		return rc;
	return mdb_txn_begin(dd->env, NULL, 0, &dd->txn);
}

int
dedup_clear(struct dedup *dd)
{
	int	 rc;

	if ((rc = begin_bulk(dd)) != 0) {
		dd->txn = NULL;
		return set_error(dd, rc);
	}
	if ((rc = mdb_drop(dd->txn, dd->ids, 0)) == 0 &&
	    (rc = mdb_drop(dd->txn, dd->seqs, 0)) == 0)
		rc = mdb_drop(dd->txn, dd->meta, 0);
	return set_error(dd, rc);
}
