/* SPDX-License-Identifier: ISC */
/* ops.h: powerfs's FUSE operations (ops.c), for fuse_main(); include <fuse.h> first. */
#ifndef POWERFS_OPS_H
#define POWERFS_OPS_H

extern const struct fuse_operations	powerfs_ops;

#endif
