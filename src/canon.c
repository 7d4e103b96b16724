/* canon.c: a digest of a JSON value that does not depend on whitespace or member order. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "canon.h"

#define TO_STRING_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static int	canon_value(EVP_MD_CTX *, json_object *);

static int
feed(EVP_MD_CTX *md, const char *s, size_t len)
{
	return EVP_DigestUpdate(md, s, len) == 1 ? 0 : -1;
}

static int
feed_str(EVP_MD_CTX *md, const char *s)
{
	return feed(md, s, strlen(s));
}

/* A member name, escaped the way json-c escapes string values. */
static int
canon_name(EVP_MD_CTX *md, const char *name)
{
	json_object	*str;
	int		 rc;

	if ((str = json_object_new_string(name)) == NULL)
		return -1;
	rc = feed_str(md, json_object_to_json_string_ext(str, TO_STRING_FLAGS));
	json_object_put(str);
	return rc;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
canon_object(EVP_MD_CTX *md, json_object *obj)
{
	const char	**names;
	size_t		  n = 0, i;
	int		  rc = 0;

	names = calloc((size_t)json_object_object_length(obj) + 1, sizeof(*names));
	if (names == NULL)
		return -1;
	json_object_object_foreach(obj, name, value) {
		(void)value;
		names[n++] = name;
	}
	qsort(names, n, sizeof(*names), compare_names);
	rc = feed_str(md, "{");
	for (i = 0; rc == 0 && i < n; i++) {
		if (i > 0)
			rc = feed_str(md, ",");
		if (rc == 0)
			rc = canon_name(md, names[i]);
		if (rc == 0)
			rc = feed_str(md, ":");
		if (rc == 0)
			rc = canon_value(md, json_object_object_get(obj, names[i]));
	}
	if (rc == 0)
		rc = feed_str(md, "}");
	free(names);
	return rc;
}

static int
canon_array(EVP_MD_CTX *md, json_object *arr)
{
	size_t	 i, n = json_object_array_length(arr);
	int	 rc;

	rc = feed_str(md, "[");
	for (i = 0; rc == 0 && i < n; i++) {
		if (i > 0)
			rc = feed_str(md, ",");
		if (rc == 0)
			rc = canon_value(md, json_object_array_get_idx(arr, i));
	}
	if (rc == 0)
		rc = feed_str(md, "]");
	return rc;
}

static int
canon_value(EVP_MD_CTX *md, json_object *value)
{
	switch (json_object_get_type(value)) {
	case json_type_object:
		return canon_object(md, value);
	case json_type_array:
		return canon_array(md, value);
	case json_type_null:
		return feed_str(md, "null");
	default:
		return feed_str(md, json_object_to_json_string_ext(value, TO_STRING_FLAGS));
	}
}

int
canon_digest(json_object *value, unsigned char out[SHA256_LEN])
{
	EVP_MD_CTX	*md;
	int		 rc = -1;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    canon_value(md, value) == 0 &&
	    EVP_DigestFinal_ex(md, out, NULL) == 1)
		rc = 0;
	EVP_MD_CTX_free(md);
	return rc;
}

size_t
canon_count_members(json_object *value)
{
	size_t	 count = 0, i, n;

	switch (json_object_get_type(value)) {
	case json_type_object: {
		json_object_object_foreach(value, name, member) {
			(void)name;
			count += 1 + canon_count_members(member);
		}
		break;
	}
	case json_type_array:
		n = json_object_array_length(value);
		for (i = 0; i < n; i++)
			count += canon_count_members(json_object_array_get_idx(value, i));
		break;
	default:
		break;
	}
	return count;
}

int
canon_depth(json_object *value)
{
	size_t	 i, n;
	int	 deepest = 0, d;

	switch (json_object_get_type(value)) {
	case json_type_object: {
		json_object_object_foreach(value, name, member) {
			(void)name;
			if ((d = canon_depth(member)) > deepest)
				deepest = d;
		}
		return deepest + 1;
	}
	case json_type_array:
		n = json_object_array_length(value);
		for (i = 0; i < n; i++)
			if ((d = canon_depth(json_object_array_get_idx(value, i))) > deepest)
				deepest = d;
		return deepest + 1;
	default:
		return 0;
	}
}
