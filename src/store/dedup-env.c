/* SPDX-License-Identifier: ISC */
/*
 * dedup-env.c: the index's LMDB environment (dedup-internal.h): written through the
 * mapping where that is safe, with the map kept ahead of the pages in use and allocated;
 * with pwrite(2) for a rebuild and elsewhere.
 */
#include "autoconf.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include <lmdb.h>

#include "dedup-internal.h"

#define MAP_SIZE	((size_t)4 << 30)	/* written with pwrite: address space only */
#define MAP_STEP	((size_t)1 << 20)	/* a mapping written in is sized in these */
#define HEADROOM_MIN	((size_t)4 << 20)	/* room kept ahead of the pages in use */

/* Filesystems where a block fallocate() gave is written in place (not copy on write). */
#define EXT4_MAGIC	0xEF53
#define XFS_MAGIC	0x58465342
#define TMPFS_MAGIC	0x01021994

static int
open_dbis(struct dedup *dd)
{
	MDB_txn	*txn;
	int	 rc;

	if ((rc = mdb_txn_begin(dd->env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &dd->meta)) == 0 &&
	    (rc = mdb_dbi_open(txn, "ids", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
	    &dd->ids)) == 0 &&
	    (rc = mdb_dbi_open(txn, "seqs", MDB_CREATE, &dd->seqs)) == 0)
		return mdb_txn_commit(txn);
	mdb_txn_abort(txn);
	return rc;
}

/* --- writing through the mapping ---------------------------------------------------- */

/*
 * Is writing through a shared mapping of the file safe? A page of it written where the
 * filesystem has no block yet takes one at the fault, and a full disk is then SIGBUS,
 * not an error; a file size limit the same (SIGXFSZ). So only on filesystems that write
 * an allocated block in place, with the whole mapping allocated first (fallocate), and
 * with no file size limit.
 */
bool
dedup_mapping_safe(int fd)
{
	struct statfs	 fs;
	struct rlimit	 lim;

	if (getrlimit(RLIMIT_FSIZE, &lim) == -1 || lim.rlim_cur != RLIM_INFINITY ||
	    fstatfs(fd, &fs) == -1)
		return false;
	return fs.f_type == EXT4_MAGIC || fs.f_type == XFS_MAGIC || fs.f_type == TMPFS_MAGIC;
}

static size_t
round_up(size_t n, size_t step)
{
	return (n + step - 1) / step * step;
}

/* The map size for the pages in use now: room ahead for many appends, never less than
 * the file (another process may map all of it: a smaller map would cut it). */
static size_t
map_size_for(size_t used, off_t file_size)
{
	size_t	 headroom = used / 8 > HEADROOM_MIN ? used / 8 : HEADROOM_MIN;
	size_t	 size = round_up(used + 2 * headroom, MAP_STEP);

	return (off_t)size < file_size ? round_up((size_t)file_size, MAP_STEP) : size;
}

/* Every byte of the first size bytes of the file allocated: 0, or an errno value. */
static int
allocate(MDB_env *env, size_t size)
{
	mdb_filehandle_t fd;
	int		 rc;

	if ((rc = mdb_env_get_fd(env, &fd)) != 0)
		return rc;
	do
		rc = posix_fallocate(fd, 0, (off_t)size);
	while (rc == EINTR);
	return rc;
}

/*
 * Before a write transaction through the mapping: keep HEADROOM_MIN (or an eighth of
 * what is in use) mapped and allocated past the pages in use, growing the map when less
 * is left (or when another process's pages went past it). 0, or an errno value.
 */
static int
keep_headroom(struct dedup *dd)
{
	MDB_envinfo	 info;
	MDB_stat	 st;
	struct stat	 file;
	mdb_filehandle_t fd;
	size_t		 used, size;
	int		 rc;

	if ((rc = mdb_env_info(dd->env, &info)) != 0 || (rc = mdb_env_stat(dd->env, &st)) != 0)
		return rc;
	used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
	if (used + HEADROOM_MIN <= dd->map_size)
		return 0;
	if ((rc = mdb_env_get_fd(dd->env, &fd)) != 0)
		return rc;
	if (fstat(fd, &file) == -1)
		return errno;
	size = map_size_for(used, file.st_size);
	if ((rc = allocate(dd->env, size)) != 0 || (rc = mdb_env_set_mapsize(dd->env, size)) != 0)
		return rc;
	dd->map_size = size;
	return 0;
}

/* --- the environment ---------------------------------------------------------------- */

/*
 * Open path (the file, by its /proc/self/fd name) writing through the mapping or with
 * pwrite; file_size: the file's size now. Through the mapping, LMDB sets the file's size
 * to the map's (so it is never less than the file) and it is allocated before anything
 * is written to it.
 */
static int
env_try(struct dedup *dd, const char *path, bool mapped, off_t file_size)
{
	unsigned int	 flags = MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC | MDB_NOTLS;
	size_t		 size = mapped ? map_size_for(0, file_size) : MAP_SIZE;
	int		 rc;

	dd->mapped = mapped;
	dd->map_size = size;
	if (mapped)
		flags |= MDB_WRITEMAP;
	if ((rc = mdb_env_create(&dd->env)) == 0 &&
	    (rc = mdb_env_set_maxdbs(dd->env, 4)) == 0 &&
	    (rc = mdb_env_set_mapsize(dd->env, size)) == 0 &&
	    (rc = mdb_env_open(dd->env, path, flags, 0600)) == 0 &&
	    (!mapped || (rc = allocate(dd->env, size)) == 0))
		rc = open_dbis(dd);
	return rc;
}

/*
 * As env_try(); when the mapping cannot be had (no room to allocate it on a nearly full
 * disk, disk-full.sh's small tmpfs), this process writes the index with pwrite instead,
 * as before the mapping was used: a full disk then fails an append (503), not the index.
 */
static int
env_open(struct dedup *dd, const char *path, bool mapped, off_t file_size)
{
	int	 rc;

	if ((rc = env_try(dd, path, mapped, file_size)) == 0 || !mapped)
		return rc;
	if (dd->env != NULL) {
		mdb_env_close(dd->env);
		dd->env = NULL;
	}
	dd->can_map = false;
	return env_try(dd, path, false, file_size);
}

/*
 * Between transactions: go on with the same file written the other way (bulk: with
 * pwrite, for a rebuild, whose growth no headroom can foresee; else through the mapping,
 * if safe here). 0, or an errno value (the old env is kept then).
 */
int
dedup_env_switch(struct dedup *dd, bool bulk)
{
	MDB_env		*old = dd->env;
	mdb_filehandle_t fd;
	struct stat	 st;
	char		 by_fd[32];
	bool		 was_mapped = dd->mapped;
	size_t		 was_size = dd->map_size;
	int		 rc;

	if ((rc = mdb_env_get_fd(old, &fd)) != 0)
		return rc;
	if (fstat(fd, &st) == -1)
		return errno;
	snprintf(by_fd, sizeof(by_fd), "/proc/self/fd/%d", fd);
	dd->env = NULL;
	if ((rc = env_open(dd, by_fd, !bulk && dd->can_map, st.st_size)) != 0) {
		if (dd->env != NULL)
			mdb_env_close(dd->env);
		dd->env = old;
		dd->mapped = was_mapped;
		dd->map_size = was_size;
		return rc;
	}
	mdb_env_close(old);
	return 0;
}

int
dedup_env_open(struct dedup *dd, const char *path, off_t file_size)
{
	return env_open(dd, path, dd->can_map, file_size);
}

/* The map grown as needed (keep_headroom(); with pwrite, LMDB's own size, as big as any
 * process has), and the env back to writing through it after a rebuild. */
int
dedup_env_ready(struct dedup *dd)
{
	int	 rc;

	if (!dd->mapped && dd->can_map && (rc = dedup_env_switch(dd, false)) != 0)
		return rc;
	return dd->mapped ? keep_headroom(dd) : 0;
}
