/* SPDX-License-Identifier: ISC */
/*
 * names.c: the names changed in each directory since that directory's last fsync, so
 * that a cut can take them back (powerfs.h). Each change is one op, kept newest first,
 * with a descriptor of its directory (so that it is undone there even if the directory
 * was renamed since). A name removed or replaced is not unlinked but moved into the
 * graveyard, a hidden directory at the backing root, so that its file can come back. An
 * fsync of a directory makes its ops durable: they are dropped, and what they put in the
 * graveyard is deleted. A cut undoes the ops left, newest first.
 *
 * A rename must stay in its directory (EXDEV otherwise, as between two mounts): one
 * directory's fsync then decides it. RENAME_EXCHANGE is not supported (EINVAL).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "powerfs.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)
#endif

enum op_kind { OP_CREATE, OP_REMOVE, OP_RENAME };

struct op {
	struct op	*older;
	enum op_kind	 kind;
	int		 dirfd;		/* O_PATH, of the directory it changed */
	dev_t		 dev;		/* and that directory's identity */
	ino_t		 ino;
	char		*name;		/* made, removed, or renamed from */
	char		*to;		/* OP_RENAME: renamed to */
	char		*grave;		/* removed, or replaced by the rename: its name there */
	bool		 isdir;		/* OP_CREATE, OP_REMOVE: a directory */
	char		*path;		/* for the report */
};

static struct op	*newest;
static int		 grave_fd = -1;
static unsigned long	 grave_count;

/* ---- paths and the graveyard -------------------------------------------------------- */

bool
names_is_grave(const char *path)
{
	size_t	 n = strlen(GRAVE_NAME);

	return path[0] == '/' && strncmp(path + 1, GRAVE_NAME, n) == 0 &&
	    (path[n + 1] == '\0' || path[n + 1] == '/');
}

/* path's directory into dir (relative to the root) and its last part into *name. */
static int
split(const char *path, char dir[PATH_MAX], const char **name)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL) {
		strcpy(dir, ".");
		*name = path;
		return 0;
	}
	if ((size_t)(slash - path) >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	*name = slash + 1;
	return 0;
}

int
names_open_grave(void)
{
	if (mkdirat(pfs.root, GRAVE_NAME, 0700) == -1)
		return -errno;
	if ((grave_fd = openat(pfs.root, GRAVE_NAME, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -errno;
	return 0;
}

static char *
grave_name(void)
{
	char	*s;

	if (asprintf(&s, "g%lu", ++grave_count) == -1)
		return NULL;
	return s;
}

/* Remove name under dirfd, and all below it. */
static void
remove_tree(int parent, const char *name)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	if (unlinkat(parent, name, 0) == 0 || (errno != EISDIR && errno != EPERM))
		return;
	if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1 &&
	    (d = fdopendir(fd)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				remove_tree(dirfd(d), de->d_name);
		closedir(d);
	} else if (fd != -1) {
		close(fd);
	}
	unlinkat(parent, name, AT_REMOVEDIR);
}

/* ---- recording ---------------------------------------------------------------------- */

static void
op_free(struct op *op)
{
	if (op->dirfd != -1)
		close(op->dirfd);
	free(op->name);
	free(op->to);
	free(op->grave);
	free(op->path);
	free(op);
}

/* A new op on path's directory (its name and dirfd set); NULL with *err on failure. */
static struct op *
op_new(enum op_kind kind, const char *path, int *err)
{
	struct op	*op;
	struct stat	 st;
	char		 dir[PATH_MAX];
	const char	*name;

	if ((*err = split(path, dir, &name)) != 0)
		return NULL;
	if ((op = calloc(1, sizeof(*op))) == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	op->kind = kind;
	op->dirfd = openat(pfs.root, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (op->dirfd == -1 || fstat(op->dirfd, &st) == -1) {
		*err = -errno;
		op_free(op);
		return NULL;
	}
	op->dev = st.st_dev;
	op->ino = st.st_ino;
	if ((op->name = strdup(name)) == NULL || (op->path = strdup(path)) == NULL) {
		*err = -ENOMEM;
		op_free(op);
		return NULL;
	}
	return op;
}

static void
op_push(struct op *op)
{
	op->older = newest;
	newest = op;
}

int
names_created(const char *path)
{
	struct op	*op;
	struct stat	 st;
	int		 err;

	if ((op = op_new(OP_CREATE, path, &err)) == NULL)
		return err;
	op->isdir = fstatat(op->dirfd, op->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
	op_push(op);
	return 0;
}

static int
dir_is_empty(int dirfd, const char *name)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, rc = 0;

	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -errno;
	}
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			rc = -ENOTEMPTY;
	closedir(d);
	return rc;
}

/* unlink(2) or rmdir(2) of path, by moving it into the graveyard. */
int
names_remove(const char *path, bool dir)
{
	struct op	*op;
	struct stat	 st;
	int		 err;

	if ((op = op_new(OP_REMOVE, path, &err)) == NULL)
		return err;
	if (fstatat(op->dirfd, op->name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		err = -errno;
	else if (dir && !S_ISDIR(st.st_mode))
		err = -ENOTDIR;
	else if (!dir && S_ISDIR(st.st_mode))
		err = -EISDIR;
	else if (dir)
		err = dir_is_empty(op->dirfd, op->name);
	if (err == 0 && (op->grave = grave_name()) == NULL)
		err = -ENOMEM;
	if (err == 0 && renameat(op->dirfd, op->name, grave_fd, op->grave) == -1)
		err = -errno;
	if (err != 0) {
		op_free(op);
		return err;
	}
	op->isdir = dir;
	op_push(op);
	return 0;
}

/* What rename(2) would refuse when from would replace to (both there). */
static int
replace_check(int dirfd, const char *to, const struct stat *src, const struct stat *dst)
{
	if (S_ISDIR(src->st_mode) && !S_ISDIR(dst->st_mode))
		return -ENOTDIR;
	if (!S_ISDIR(src->st_mode) && S_ISDIR(dst->st_mode))
		return -EISDIR;
	return S_ISDIR(dst->st_mode) ? dir_is_empty(dirfd, to) : 0;
}

/* The name rename will replace, kept in the graveyard: a link to a file, or the
 * (empty) directory itself. */
static int
keep_replaced(struct op *op, const struct stat *dst)
{
	if ((op->grave = grave_name()) == NULL)
		return -ENOMEM;
	if (S_ISDIR(dst->st_mode) ? renameat(op->dirfd, op->to, grave_fd, op->grave) :
	    linkat(op->dirfd, op->to, grave_fd, op->grave, 0))
		return -errno;
	return 0;
}

static void
put_back_replaced(struct op *op, const struct stat *dst)
{
	if (S_ISDIR(dst->st_mode))
		renameat(grave_fd, op->grave, op->dirfd, op->to);
	else
		unlinkat(grave_fd, op->grave, 0);
}

static int
rename_in_dir(struct op *op, unsigned int flags)
{
	struct stat	 src, dst;
	bool		 replaces;
	int		 err;

	if (fstatat(op->dirfd, op->name, &src, AT_SYMLINK_NOFOLLOW) == -1)
		return -errno;
	replaces = fstatat(op->dirfd, op->to, &dst, AT_SYMLINK_NOFOLLOW) == 0;
	if (replaces && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (replaces && src.st_dev == dst.st_dev && src.st_ino == dst.st_ino)
		return 1;	/* two links to one file: rename does nothing */
	if (replaces && ((err = replace_check(op->dirfd, op->to, &src, &dst)) != 0 ||
	    (err = keep_replaced(op, &dst)) != 0))
		return err;
	if (renameat(op->dirfd, op->name, op->dirfd, op->to) == -1) {
		err = -errno;
		if (replaces)
			put_back_replaced(op, &dst);
		return err;
	}
	return 0;
}

int
names_rename(const char *from, const char *to, unsigned int flags)
{
	struct op	*op;
	char		 dir[PATH_MAX], todir[PATH_MAX];
	const char	*name, *toname;
	int		 err;

	if (flags & ~(unsigned int)RENAME_NOREPLACE)
		return -EINVAL;
	if ((err = split(from, dir, &name)) != 0 || (err = split(to, todir, &toname)) != 0)
		return err;
	if (strcmp(dir, todir) != 0)
		return -EXDEV;
	if ((op = op_new(OP_RENAME, from, &err)) == NULL)
		return err;
	if ((op->to = strdup(toname)) == NULL) {
		op_free(op);
		return -ENOMEM;
	}
	if ((err = rename_in_dir(op, flags)) != 0) {
		op_free(op);
		return err > 0 ? 0 : err;
	}
	op_push(op);
	return 0;
}

/* ---- durable, or taken back --------------------------------------------------------- */

void
names_dir_synced(const struct stat *dir)
{
	struct op	**p, *op;

	for (p = &newest; (op = *p) != NULL;) {
		if (op->dev != dir->st_dev || op->ino != dir->st_ino) {
			p = &op->older;
			continue;
		}
		*p = op->older;
		if (op->grave != NULL)
			remove_tree(grave_fd, op->grave);
		op_free(op);
	}
}

/* Undo one op; 0, or -1 with errno (ENOENT: its directory is gone, durably). */
static int
undo(struct op *op)
{
	char	*g;

	switch (op->kind) {
	case OP_CREATE:
		if (!op->isdir)
			return unlinkat(op->dirfd, op->name, 0);
		/* with whatever is in it: to the graveyard, emptied below */
		if ((g = grave_name()) == NULL)
			return -1;
		free(op->grave);
		op->grave = g;
		return renameat(op->dirfd, op->name, grave_fd, g);
	case OP_REMOVE:
		if (renameat(grave_fd, op->grave, op->dirfd, op->name) == -1)
			return -1;
		break;
	case OP_RENAME:
		if (renameat(op->dirfd, op->to, op->dirfd, op->name) == -1 ||
		    (op->grave != NULL &&
		    renameat(grave_fd, op->grave, op->dirfd, op->to) == -1))
			return -1;
		break;
	}
	free(op->grave);
	op->grave = NULL;
	return 0;
}

static const char *const op_verbs[] = {
	[OP_CREATE] = "made", [OP_REMOVE] = "removed", [OP_RENAME] = "renamed",
};

size_t
names_cut(void)
{
	struct op	*op;
	size_t		 count = 0;

	while ((op = newest) != NULL) {
		newest = op->older;
		if (undo(op) == -1)
			fprintf(pfs.report, "powerfs: cut: %s: %s, cannot undo it: %s\n",
			    op->path, op_verbs[op->kind], strerror(errno));
		else
			fprintf(pfs.report, "powerfs: cut: %s: %s%s%s since its directory's "
			    "last fsync: undone\n", op->path, op_verbs[op->kind],
			    op->kind == OP_RENAME ? " to " : "",
			    op->kind == OP_RENAME ? op->to : "");
		if (op->grave != NULL)
			remove_tree(grave_fd, op->grave);
		op_free(op);
		count++;
	}
	return count;
}

void
names_keep_all(void)
{
	struct op	*op;

	while ((op = newest) != NULL) {
		newest = op->older;
		if (op->grave != NULL)
			remove_tree(grave_fd, op->grave);
		op_free(op);
	}
	if (grave_fd != -1)
		close(grave_fd);
	grave_fd = -1;
	if (unlinkat(pfs.root, GRAVE_NAME, AT_REMOVEDIR) == -1 && errno != ENOENT)
		fprintf(pfs.report, "powerfs: %s: rmdir: %s\n", GRAVE_NAME, strerror(errno));
}
