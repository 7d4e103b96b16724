/* SPDX-License-Identifier: ISC */
/*
 * line-sha256.c: print the hex SHA-256 of every line of stdin, its '\n' included, one a
 * line; an unfinished last line is hashed as it is. What "sha256sum" would print for each
 * line in a file of its own, in one process: tests/lib.sh's check_chain uses it. It uses
 * libcrypto directly and nothing of idwise-fcgi, so the writer is checked by other code.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

static int
put_digest(EVP_MD_CTX *ctx)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 len, i;

	if (EVP_DigestFinal_ex(ctx, md, &len) != 1)
		return -1;
	for (i = 0; i < len; i++)
		if (printf("%02x", md[i]) < 0)
			return -1;
	return putchar('\n') == EOF ? -1 : 0;
}

int
main(void)
{
	EVP_MD_CTX	*ctx;
	char		 buf[65536];
	size_t		 n, i, start;
	int		 open_line = 0;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return 1;
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		for (start = 0, i = 0; i < n; i++) {
			if (!open_line && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
				return 1;
			open_line = 1;
			if (buf[i] != '\n')
				continue;
			if (EVP_DigestUpdate(ctx, buf + start, i + 1 - start) != 1 ||
			    put_digest(ctx) == -1)
				return 1;
			open_line = 0;
			start = i + 1;
		}
		if (open_line && EVP_DigestUpdate(ctx, buf + start, n - start) != 1)
			return 1;
	}
	if (ferror(stdin) || (open_line && put_digest(ctx) == -1))
		return 1;
	EVP_MD_CTX_free(ctx);
	return fflush(stdout) == EOF ? 1 : 0;
}
