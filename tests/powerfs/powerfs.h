/* SPDX-License-Identifier: ISC */
/*
 * powerfs.h: a FUSE filesystem that forgets, on a power cut, what was not flushed
 * (tests/powerfs/, built as tests/powerfs/powerfs by make check; tests/README.md says how it is
 * used). It passes everything through to a backing directory at once, and keeps what is
 * needed to take back what a disk that honours only flushes would not hold:
 *
 *   data.c	per file (by inode): its durable size and the durable bytes that writes,
 *		truncations and fallocates since its last fsync or fdatasync overwrote, and
 *		its last write
 *   names.c	per directory (by inode): the names created, linked, renamed or removed since
 *		that directory's last fsync, undone newest first; a removed or replaced name is
 *		kept in the hidden graveyard GRAVE_NAME at the backing root until then
 *   ops.c	the FUSE operations, each change under pfs.lock
 *   main.c	the options, the power cut (SIGUSR1) and a clean unmount
 *
 * The contract of a cut: afterwards the backing directory holds, for every file, the bytes
 * and size it had at its last fsync or fdatasync (or, with a tear mode, also every later
 * write but the last, and a random part of that), and in every directory the names it had
 * at that directory's last fsync; the mount is dead (every call fails with EIO) and goes
 * away. Attributes other than the size (mode, owner, times) are written through and kept.
 */
#ifndef POWERFS_H
#define POWERFS_H

#include <sys/stat.h>
#include <sys/types.h>

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#define GRAVE_NAME	".powerfs-grave"
#define PFS_PAGE	4096

/* What a cut does to the last unsynced write of each file (main.c's --tear). */
enum tear {
	TEAR_NONE,	/* every unsynced write is lost */
	TEAR_BYTE,	/* earlier ones kept, the last one cut at a random byte */
	TEAR_PAGE,	/* the same, cut at a page boundary inside it (or at its start) */
	TEAR_ZERO,	/* cut at a random byte, the rest of it zeros: the size got there */
};

struct pfs {
	int		 root;		/* the backing directory */
	char		*root_path;	/* and its real path, for the report */
	pthread_mutex_t	 lock;		/* held by every change, every sync and the cut */
	bool		 mounted;	/* init was called */
	bool		 dead;		/* cut: the power is off, every call fails */
	enum tear	 tear;
	unsigned int	 seed;		/* rand_r() state for the tear points */
	FILE		*report;	/* one line per thing a cut takes back */
	const char	*cut_at;	/* cut when this file's (or directory's) fsync comes */
	unsigned long	 cut_at_n;	/* its cut_at_n-th one */
	unsigned long	 cut_at_seen;
	pthread_t	 main_thread;	/* runs fuse_main() */
};

extern struct pfs	pfs;

/* "/a/b" as a path relative to pfs.root ("." for "/"). */
const char	*pfs_rel(const char *path);
/* The name fd's file has now, relative to pfs.root (for reports and --cut-at-sync). */
const char	*pfs_name_of(int fd, char buf[PATH_MAX]);
/* main.c: under pfs.lock, the power cut (powerfs.h's contract); the mount then ends. */
void	pfs_cut(const char *why);

/* data.c: all under pfs.lock. fd: a backing descriptor of the file. */
int	data_before_write(int fd, off_t off, size_t len);
int	data_before_truncate(int fd, off_t size);
/* An fallocate of [off, off + len): the size it may give is unsynced as a write's is;
 * zeroes: it also zeroes those bytes (a hole punched, a range zeroed). */
int	data_before_fallocate(int fd, off_t off, off_t len, bool zeroes);
void	data_synced(int fd);
/* The cut: every file back to what was synced (torn as pfs.tear says); how many. */
size_t	data_cut(void);
/* A clean unmount: what was written stays. */
void	data_keep_all(void);

/* names.c: all under pfs.lock. Paths relative to pfs.root; 0 or -errno. */
int	names_open_grave(void);
int	names_created(const char *path);
int	names_remove(const char *path, bool dir);
int	names_rename(const char *from, const char *to, unsigned int flags);
/* dir: the directory fsynced (its stat). */
void	names_dir_synced(const struct stat *dir);
/* The cut: names back to what each directory had at its last fsync; how many undone. */
size_t	names_cut(void);
/* A clean unmount (or after a cut): the graveyard emptied and removed. */
void	names_keep_all(void);
bool	names_is_grave(const char *path);

#endif
