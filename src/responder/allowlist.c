/* SPDX-License-Identifier: ISC */
/*
 * allowlist.c: source address lists: addresses and CIDR blocks, IPv4 and IPv6, an
 * IPv4-mapped IPv6 address taken as the IPv4 address it carries.
 */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"

#define BLANKS			" \t"
#define ALLOW_ENTRY_MAX		(INET6_ADDRSTRLEN + 4)	/* address, '/', prefix length */
#define MAPPED_BIAS		96	/* prefix bits of ::ffff:0:0/96 */

/* One address or CIDR block; an address is a block of full length. */
struct netblock {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned int	 prefix;	/* significant leading bits */
	unsigned char	 addr[16];	/* bits beyond prefix are zero */
};

struct allowlist {
	size_t		 count;
	struct netblock	 blocks[];
};

/*
 * Text address -> block of full length. An IPv4-mapped IPv6 address (::ffff:a.b.c.d,
 * as a dual-stack web server reports IPv4 clients) becomes the IPv4 address; *bias
 * says how many prefix bits the IPv6 spelling had in front of it (96), else 0.
 */
static int
parse_addr(const char *s, struct netblock *nb, unsigned int *bias)
{
	struct in6_addr	 a6;

	*bias = 0;
	if (inet_pton(AF_INET, s, nb->addr) == 1) {
		nb->family = AF_INET;
		nb->prefix = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		nb->family = AF_INET;
		nb->prefix = 32;
		memcpy(nb->addr, &a6.s6_addr[12], 4);
		*bias = MAPPED_BIAS;
		return 0;
	}
	nb->family = AF_INET6;
	nb->prefix = 128;
	memcpy(nb->addr, a6.s6_addr, 16);
	return 0;
}

/* Decimal prefix length min..max, digits only. */
static int
parse_prefix(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	size_t		 len = strlen(s), i;
	unsigned int	 v = 0;

	if (len == 0 || len > 3 || strspn(s, "0123456789") != len)
		return -1;
	for (i = 0; i < len; i++)
		v = v * 10 + (unsigned int)(s[i] - '0');
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Clear the bits beyond the prefix. Operators often write a block by one of its
 * addresses (192.0.2.7/24); that means the block, so host bits are accepted and masked.
 */
static void
mask_block(struct netblock *nb)
{
	unsigned int	 full = nb->prefix / 8, rest = nb->prefix % 8, i;

	if (rest != 0)
		nb->addr[full++] &= (unsigned char)(0xff << (8 - rest));
	for (i = full; i < sizeof(nb->addr); i++)
		nb->addr[i] = 0;
}

/*
 * One entry, already trimmed: "addr" or "addr/len". Errors say which entry (its number),
 * never what it holds: a credential pasted at the wrong key must not be printed.
 */
static int
parse_entry(const char *entry, size_t number, struct netblock *nb, char *err, size_t errlen)
{
	char		 buf[ALLOW_ENTRY_MAX + 1];
	char		*slash;
	unsigned int	 bias, max;

	if (strpbrk(entry, BLANKS) != NULL) {
		snprintf(err, errlen, "entry %zu: one address or block per entry, "
		    "separated by commas", number);
		return -1;
	}
	if (strlen(entry) > ALLOW_ENTRY_MAX) {
		snprintf(err, errlen, "entry %zu: not an IPv4 or IPv6 address", number);
		return -1;
	}
	memcpy(buf, entry, strlen(entry) + 1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (parse_addr(buf, nb, &bias) == -1) {
		snprintf(err, errlen, "entry %zu: not an IPv4 or IPv6 address", number);
		return -1;
	}
	max = nb->prefix + bias;
	if (slash != NULL && parse_prefix(slash + 1, bias, max, &nb->prefix) == -1) {
		snprintf(err, errlen, "entry %zu: prefix length must be %u to %u",
		    number, bias, max);
		return -1;
	}
	if (slash != NULL)
		nb->prefix -= bias;
	mask_block(nb);
	return 0;
}

/* Copy s[0..len) without surrounding blanks into out (ALLOW_ENTRY_MAX + 2 bytes). */
static void
trim_entry(const char *s, size_t len, char *out, size_t outlen)
{
	while (len > 0 && strchr(BLANKS, s[0]) != NULL) {
		s++;
		len--;
	}
	while (len > 0 && strchr(BLANKS, s[len - 1]) != NULL)
		len--;
	if (len >= outlen)
		len = outlen - 1;	/* still longer than any entry: refused later */
	memcpy(out, s, len);
	out[len] = '\0';
}

int
allowlist_parse(const char *text, struct allowlist **out, char *err, size_t errlen)
{
	struct allowlist	*list;
	char			 entry[ALLOW_ENTRY_MAX + 2];
	const char		*p;
	size_t			 n = 1, len;

	*out = NULL;
	for (p = text; (p = strchr(p, ',')) != NULL; p++)
		n++;
	if ((list = calloc(1, sizeof(*list) + n * sizeof(list->blocks[0]))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	for (p = text; list->count < n; p += len + 1) {
		len = strcspn(p, ",");
		trim_entry(p, len, entry, sizeof(entry));
		if (entry[0] == '\0') {
			snprintf(err, errlen, "entry %zu is empty", list->count + 1);
			free(list);
			return -1;
		}
		if (parse_entry(entry, list->count + 1, &list->blocks[list->count], err,
		    errlen) == -1) {
			free(list);
			return -1;
		}
		list->count++;
	}
	*out = list;
	return 0;
}

static bool
block_contains(const struct netblock *block, const struct netblock *a)
{
	unsigned int	 full = block->prefix / 8, rest = block->prefix % 8;
	unsigned char	 mask;

	if (a->family != block->family || memcmp(a->addr, block->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a->addr[full] & mask) == block->addr[full];
}

bool
allowlist_permits(const struct allowlist *list, const char *addr)
{
	struct netblock	 a;
	unsigned int	 bias;
	size_t		 i;

	if (list == NULL)
		return true;
	if (addr == NULL || parse_addr(addr, &a, &bias) == -1)
		return false;
	for (i = 0; i < list->count; i++)
		if (block_contains(&list->blocks[i], &a))
			return true;
	return false;
}

void
allowlist_free(struct allowlist *list)
{
	free(list);
}
