/* SPDX-License-Identifier: ISC */
/*
 * secret-file.h: a credential idwise-log hands to a server (a NATS password or token),
 * read from a file so that it never appears in a command line, an environment or a
 * message. The file must be a regular file that others cannot read or write, owned by
 * root or by whoever runs idwise-log; otherwise it is refused, as idwise-fcgi refuses its
 * own secret files. Messages name the file and the reason, never what it holds.
 */
#ifndef IDW_SECRET_FILE_H
#define IDW_SECRET_FILE_H

/* The file's first line without its line end and surrounding blanks, malloc'd; NULL when
 * it cannot be read, is refused or is empty (said why). */
char	*secret_file_read(const char *path);
/* The same checks for a file another library reads itself (a NATS .creds file); 0 or -1. */
int	 secret_file_check(const char *path);
/* Overwrite and free a secret. */
void	 secret_free(char *);

#endif
