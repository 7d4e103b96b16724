/* SPDX-License-Identifier: ISC */
/*
 * ops.c: powerfs's FUSE operations (powerfs.h). Each passes through to the backing
 * directory; each change first tells data.c or names.c what it is about to overwrite,
 * under pfs.lock, and fsync and fsyncdir tell them what is durable now. Files are opened
 * on the backing side without O_APPEND (the kernel gives every write its offset), O_SYNC
 * or O_DSYNC (the kernel sends an fsync after such a write) and O_TRUNC (a truncation
 * saves what it cuts first); fallocate as a write or a truncation. After a cut every call
 * fails with EIO.
 */
#define FUSE_USE_VERSION	35

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "powerfs.h"
#include "ops.h"

/* Flags the backing side must not see (see above); O_CREAT and O_EXCL are ours to add. */
#define NOT_PASSED	(O_APPEND | O_TRUNC | O_SYNC | O_DSYNC | O_DIRECT | O_CREAT | O_EXCL | \
			 O_NOCTTY)

struct dir_handle {
	DIR	*d;
	bool	 root;		/* the graveyard is hidden in the root */
};

const char *
pfs_rel(const char *path)
{
	return path[0] == '/' && path[1] == '\0' ? "." : path + (path[0] == '/');
}

const char *
pfs_name_of(int fd, char buf[PATH_MAX])
{
	char	 proc[64];
	ssize_t	 len;
	size_t	 root = strlen(pfs.root_path);

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((len = readlink(proc, buf, PATH_MAX - 1)) == -1)
		return "(no name)";
	buf[len] = '\0';
	if (strncmp(buf, pfs.root_path, root) == 0 && buf[root] == '/')
		return buf + root + 1;
	return buf;
}

/* ---- helpers ------------------------------------------------------------------------ */

static int
sys(int rc)
{
	return rc == -1 ? -errno : 0;
}

/* Every change: under the lock, and not after a cut. */
static int
change_begin(void)
{
	pthread_mutex_lock(&pfs.lock);
	if (!pfs.dead)
		return 0;
	pthread_mutex_unlock(&pfs.lock);
	return -EIO;
}

static int
change_end(int rc)
{
	pthread_mutex_unlock(&pfs.lock);
	return rc;
}

static int
alive(const char *path)
{
	if (pfs.dead)
		return -EIO;
	return path != NULL && names_is_grave(path) ? -ENOENT : 0;
}

/* A name just made: the caller's, and recorded; taken away again if that fails. */
static int
made(const char *path, bool dir)
{
	struct fuse_context	*ctx = fuse_get_context();
	const char		*rel = pfs_rel(path);
	int			 rc;

	if ((rc = sys(fchownat(pfs.root, rel, ctx->uid, ctx->gid, AT_SYMLINK_NOFOLLOW))) == 0 &&
	    (rc = names_created(rel)) == 0)
		return 0;
	unlinkat(pfs.root, rel, dir ? AT_REMOVEDIR : 0);
	return rc;
}

/* ---- names -------------------------------------------------------------------------- */

static int
pfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	int	 rc;

	if ((rc = alive(path)) != 0)
		return rc;
	if (fi != NULL)
		return sys(fstat((int)fi->fh, st));
	return sys(fstatat(pfs.root, pfs_rel(path), st, AT_SYMLINK_NOFOLLOW));
}

static int
pfs_readlink(const char *path, char *buf, size_t size)
{
	ssize_t	 n;
	int	 rc;

	if ((rc = alive(path)) != 0)
		return rc;
	if (size == 0)
		return -EINVAL;
	if ((n = readlinkat(pfs.root, pfs_rel(path), buf, size - 1)) == -1)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int
pfs_mknod(const char *path, mode_t mode, dev_t rdev)
{
	int	 rc;

	if ((rc = alive(path)) != 0 || (rc = change_begin()) != 0)
		return rc;
	if ((rc = sys(mknodat(pfs.root, pfs_rel(path), mode, rdev))) == 0)
		rc = made(path, false);
	return change_end(rc);
}

static int
pfs_mkdir(const char *path, mode_t mode)
{
	int	 rc;

	if ((rc = alive(path)) != 0 || (rc = change_begin()) != 0)
		return rc;
	if ((rc = sys(mkdirat(pfs.root, pfs_rel(path), mode))) == 0)
		rc = made(path, true);
	return change_end(rc);
}

static int
pfs_symlink(const char *target, const char *path)
{
	int	 rc;

	if ((rc = alive(path)) != 0 || (rc = change_begin()) != 0)
		return rc;
	if ((rc = sys(symlinkat(target, pfs.root, pfs_rel(path)))) == 0)
		rc = made(path, false);
	return change_end(rc);
}

static int
pfs_link(const char *from, const char *to)
{
	int	 rc;

	if ((rc = alive(to)) != 0 || (rc = change_begin()) != 0)
		return rc;
	if ((rc = sys(linkat(pfs.root, pfs_rel(from), pfs.root, pfs_rel(to), 0))) == 0 &&
	    (rc = names_created(pfs_rel(to))) != 0)
		unlinkat(pfs.root, pfs_rel(to), 0);
	return change_end(rc);
}

static int
pfs_unlink(const char *path)
{
	int	 rc;

	if ((rc = alive(path)) != 0 || (rc = change_begin()) != 0)
		return rc;
	return change_end(names_remove(pfs_rel(path), false));
}

static int
pfs_rmdir(const char *path)
{
	int	 rc;

	if ((rc = alive(path)) != 0 || (rc = change_begin()) != 0)
		return rc;
	return change_end(names_remove(pfs_rel(path), true));
}

static int
pfs_rename(const char *from, const char *to, unsigned int flags)
{
	int	 rc;

	if ((rc = alive(to)) != 0 || (rc = change_begin()) != 0)
		return rc;
	return change_end(names_rename(pfs_rel(from), pfs_rel(to), flags));
}

/* ---- attributes: written through ---------------------------------------------------- */

static int
pfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int	 rc;

	if ((rc = alive(path)) != 0)
		return rc;
	if (fi != NULL)
		return sys(fchmod((int)fi->fh, mode));
	return sys(fchmodat(pfs.root, pfs_rel(path), mode, 0));
}

static int
pfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	int	 rc;

	if ((rc = alive(path)) != 0)
		return rc;
	if (fi != NULL)
		return sys(fchown((int)fi->fh, uid, gid));
	return sys(fchownat(pfs.root, pfs_rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

static int
pfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	int	 rc;

	if ((rc = alive(path)) != 0)
		return rc;
	if (fi != NULL)
		return sys(futimens((int)fi->fh, tv));
	return sys(utimensat(pfs.root, pfs_rel(path), tv, AT_SYMLINK_NOFOLLOW));
}

static int
pfs_statfs(const char *path, struct statvfs *st)
{
	int	 rc;

	if ((rc = alive(path)) != 0)
		return rc;
	return sys(fstatvfs(pfs.root, st));
}

/* ---- data --------------------------------------------------------------------------- */

/* Under the lock: fd truncated to size, what it cuts saved first. */
static int
truncate_fd(int fd, off_t size)
{
	int	 rc;

	if ((rc = data_before_truncate(fd, size)) != 0)
		return rc;
	return sys(ftruncate(fd, size));
}

static int
pfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	int	 fd, rc;

	if ((rc = alive(path)) != 0 || (rc = change_begin()) != 0)
		return rc;
	if (fi != NULL)
		return change_end(truncate_fd((int)fi->fh, size));
	if ((fd = openat(pfs.root, pfs_rel(path), O_WRONLY | O_CLOEXEC)) == -1)
		return change_end(-errno);
	rc = truncate_fd(fd, size);
	close(fd);
	return change_end(rc);
}

/* The backing descriptor for fi's flags, as fi->fh; O_TRUNC done as a truncation. */
static int
open_backing(const char *path, struct fuse_file_info *fi, int extra, mode_t mode)
{
	int	 fd, rc = 0;

	fd = openat(pfs.root, pfs_rel(path), (fi->flags & ~NOT_PASSED) | extra | O_CLOEXEC, mode);
	if (fd == -1)
		return -errno;
	if ((fi->flags & O_TRUNC) && !(extra & O_CREAT) && (rc = change_begin()) == 0)
		rc = change_end(truncate_fd(fd, 0));
	if (rc != 0) {
		close(fd);
		return rc;
	}
	fi->fh = (uint64_t)fd;
	fi->keep_cache = 1;	/* every change comes through here: the cache stays right */
	return 0;
}

static int
pfs_open(const char *path, struct fuse_file_info *fi)
{
	int	 rc;

	if ((rc = alive(path)) != 0)
		return rc;
	return open_backing(path, fi, 0, 0);
}

static int
pfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int	 rc;

	if ((rc = alive(path)) != 0 || (rc = change_begin()) != 0)
		return rc;
	rc = open_backing(path, fi, O_CREAT | O_EXCL, mode);
	if (rc == 0 && (rc = made(path, false)) != 0)
		close((int)fi->fh);
	change_end(rc);
	if (rc == -EEXIST && !(fi->flags & O_EXCL))
		return open_backing(path, fi, 0, 0);
	return rc;
}

static int
pfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	ssize_t	 n;
	int	 rc;

	if ((rc = alive(path)) != 0)
		return rc;
	n = pread((int)fi->fh, buf, size, off);
	return n == -1 ? -errno : (int)n;
}

static int
pfs_write(const char *path, const char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	ssize_t	 n;
	int	 rc;

	if ((rc = alive(path)) != 0 || (rc = change_begin()) != 0)
		return rc;
	if ((rc = data_before_write((int)fi->fh, off, size)) != 0)
		return change_end(rc);
	n = pwrite((int)fi->fh, buf, size, off);
	return change_end(n == -1 ? -errno : (int)n);
}

/*
 * fallocate(2): blocks allocated (the size grown to the range's end, or kept with
 * FALLOC_FL_KEEP_SIZE), a hole punched or a range zeroed: passed through, and what it
 * changes is unsynced as a write's change is (data.c). Collapsing, inserting or unsharing
 * a range is refused with EOPNOTSUPP: they move bytes, which data.c keeps by offset.
 */
#define FALLOC_KNOWN	(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)

static int
pfs_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	int	 rc;

	if ((rc = alive(path)) != 0)
		return rc;
	if (fi == NULL || (mode & ~FALLOC_KNOWN) != 0)
		return -EOPNOTSUPP;
	if ((rc = change_begin()) != 0)
		return rc;
	if ((rc = data_before_fallocate((int)fi->fh, off, len,
	    (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) != 0)) != 0)
		return change_end(rc);
	return change_end(sys(fallocate((int)fi->fh, mode, off, len)));
}

static int
pfs_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return 0;	/* close(2) promises nothing about the disk */
}

static int
pfs_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close((int)fi->fh);
	return 0;
}

/* Under the lock: is this fsync of fd the one --cut-at-sync names? Then the cut, now. */
static bool
cut_here(int fd)
{
	char	 buf[PATH_MAX], why[PATH_MAX + 64];

	if (pfs.cut_at == NULL || strcmp(pfs_name_of(fd, buf), pfs.cut_at) != 0 ||
	    ++pfs.cut_at_seen < pfs.cut_at_n)
		return false;
	snprintf(why, sizeof(why), "at fsync %lu of %s", pfs.cut_at_seen, pfs.cut_at);
	pfs_cut(why);
	return true;
}

static int
pfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	int	 rc;

	(void)datasync;		/* the size is kept either way */
	if ((rc = alive(path)) != 0 || (rc = change_begin()) != 0)
		return rc;
	if (cut_here((int)fi->fh))
		return change_end(-EIO);
	data_synced((int)fi->fh);
	return change_end(0);
}

/* ---- directories -------------------------------------------------------------------- */

static int
pfs_opendir(const char *path, struct fuse_file_info *fi)
{
	struct dir_handle	*h;
	int			 fd, rc;

	if ((rc = alive(path)) != 0)
		return rc;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	fd = openat(pfs.root, pfs_rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (h->d = fdopendir(fd)) == NULL) {
		rc = -errno;
		if (fd != -1)
			close(fd);
		free(h);
		return rc;
	}
	h->root = strcmp(path, "/") == 0;
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

static int
pfs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
    struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct dir_handle	*h = (struct dir_handle *)(uintptr_t)fi->fh;
	struct dirent		*de;
	struct stat		 st;
	int			 rc;

	(void)off;
	(void)flags;
	if ((rc = alive(path)) != 0)
		return rc;
	rewinddir(h->d);	/* all of it at once, every time (offset 0) */
	errno = 0;
	while ((de = readdir(h->d)) != NULL) {
		if (h->root && strcmp(de->d_name, GRAVE_NAME) == 0)
			continue;
		memset(&st, 0, sizeof(st));
		st.st_ino = de->d_ino;
		st.st_mode = (mode_t)DTTOIF(de->d_type);
		if (fill(buf, de->d_name, &st, 0, 0) != 0)
			return 0;
	}
	return -errno;
}

static int
pfs_releasedir(const char *path, struct fuse_file_info *fi)
{
	struct dir_handle	*h = (struct dir_handle *)(uintptr_t)fi->fh;

	(void)path;
	closedir(h->d);
	free(h);
	return 0;
}

static int
pfs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct dir_handle	*h = (struct dir_handle *)(uintptr_t)fi->fh;
	struct stat		 st;
	int			 rc;

	(void)datasync;
	if ((rc = alive(path)) != 0 || (rc = change_begin()) != 0)
		return rc;
	if (cut_here(dirfd(h->d)))
		return change_end(-EIO);
	if (fstat(dirfd(h->d), &st) == -1)
		return change_end(-errno);
	names_dir_synced(&st);
	return change_end(0);
}

/* ---- the mount ---------------------------------------------------------------------- */

static void *
pfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->use_ino = 1;		/* the backing inode numbers: the same after a cut */
	cfg->hard_remove = 1;		/* no .fuse_hidden files: names.c keeps what is removed */
	cfg->nullpath_ok = 1;
	cfg->entry_timeout = 1.0;
	cfg->attr_timeout = 1.0;
	cfg->negative_timeout = 0;
	conn->want &= ~(unsigned int)(FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_WRITEBACK_CACHE);
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	pfs.mounted = true;
	return NULL;
}

const struct fuse_operations powerfs_ops = {
	.init		= pfs_init,
	.getattr	= pfs_getattr,
	.readlink	= pfs_readlink,
	.mknod		= pfs_mknod,
	.mkdir		= pfs_mkdir,
	.symlink	= pfs_symlink,
	.link		= pfs_link,
	.unlink		= pfs_unlink,
	.rmdir		= pfs_rmdir,
	.rename		= pfs_rename,
	.chmod		= pfs_chmod,
	.chown		= pfs_chown,
	.utimens	= pfs_utimens,
	.statfs		= pfs_statfs,
	.truncate	= pfs_truncate,
	.open		= pfs_open,
	.create		= pfs_create,
	.read		= pfs_read,
	.write		= pfs_write,
	.fallocate	= pfs_fallocate,
	.flush		= pfs_flush,
	.release	= pfs_release,
	.fsync		= pfs_fsync,
	.opendir	= pfs_opendir,
	.readdir	= pfs_readdir,
	.releasedir	= pfs_releasedir,
	.fsyncdir	= pfs_fsyncdir,
};
